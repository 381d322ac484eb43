"""The seed: SocketAPI 0.2.0's chat router (its documentation's routers/chat.py), served by
uvicorn, for the differential test against examples/socketapi_chat.rs."""

from typing import Annotated

from pydantic import BaseModel
from socketapi import RequiredOnSubscribe, SocketAPI

app = SocketAPI()


class Message(BaseModel):
    user: str
    text: str
    room: str


@app.channel("chat_room")
async def chat_room(
    room_id: Annotated[str, RequiredOnSubscribe], message: Message | None = None
):
    if message:
        return message.model_dump()
    return {"room": room_id, "text": "Welcome to the chat room!"}


@app.action("send_message")
async def send_message(message: Message):
    await chat_room(room_id=message.room, message=message)
    return {"sent": True}


@app.action("get_history")
async def get_history(room_id: str, limit: int = 50):
    return {"room": room_id, "messages": []}
