//! Pub/sub bridges to other processes through a broker, behind their features: the
//! [`PubSubBridge`](crate::PubSubBridge) implementations (Redis, feature `redis`). Files import
//! in this order, never back: `envelope` -> `stats` -> `redis`.

pub(crate) mod envelope;
pub(crate) mod redis;
pub(crate) mod stats;
