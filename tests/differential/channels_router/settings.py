"""The smallest Django project serving django-channels-router's consumer (the seed), for
the differential test against examples/channels_router.rs."""

SECRET_KEY = "differential-test-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["channels"]
ASGI_APPLICATION = "channels_router.asgi.application"
DATABASES = {}
USE_TZ = True
