"""Settings of the example shop.

Nothing here is a literal deployment value. Two env files (KEY=VALUE lines) provide them:
- <release>/config/settings.env: this release's configuration snapshot, switched with the code;
- <deploy root>/shared/config/shop.env: database and secret key, shared by every release
  (path overridable with the SHOP_SHARED_ENV environment variable).
"""
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# The release directory with symlinks resolved: releases/<version>, even when started via `current`.
BASE_DIR = Path(__file__).resolve().parent.parent


def _read_env_file(path):
    values = {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ImproperlyConfigured(f"cannot read {path}: {e.strerror}") from e
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ImproperlyConfigured(f"{path}:{number}: expected KEY=VALUE")
        values[key.strip()] = value.strip()
    return values


SHARED_ENV_FILE = Path(
    os.environ.get("SHOP_SHARED_ENV") or BASE_DIR.parent.parent / "shared" / "config" / "shop.env"
)
RELEASE_ENV_FILE = BASE_DIR / "config" / "settings.env"
_env = {**_read_env_file(SHARED_ENV_FILE), **_read_env_file(RELEASE_ENV_FILE)}


def _require(key):
    if not _env.get(key):
        raise ImproperlyConfigured(f"{key} is not set in {RELEASE_ENV_FILE} or {SHARED_ENV_FILE}")
    return _env[key]


SHOP_RELEASE = _require("SHOP_RELEASE")
SECRET_KEY = _require("SHOP_SECRET_KEY")
DEBUG = _env.get("SHOP_DEBUG", "0") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "shop",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
ROOT_URLCONF = "shopsite.urls"
WSGI_APPLICATION = "shopsite.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _require("SHOP_DB_NAME"),
        "USER": _require("SHOP_DB_USER"),
        "PASSWORD": _env.get("SHOP_DB_PASSWORD", ""),
        "HOST": _require("SHOP_DB_HOST"),
        "PORT": _env.get("SHOP_DB_PORT", "5432"),
        # A connection per request: a database swapped or restored under the running shop
        # (the rollback's restore step terminates connections) is picked up by the next request.
        "CONN_MAX_AGE": 0,
        "OPTIONS": {"connect_timeout": 5},
    }
}

# Nginx serves /static/ from <release>/static (`manage.py collectstatic` at deploy); Django never
# does (DEBUG is off). Nginx terminates TLS and says so in X-Forwarded-Proto.
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Order confirmations go out over SMTP (shared config: SHOP_EMAIL_HOST, SHOP_EMAIL_PORT). Without
# a port no mail is sent.
if _env.get("SHOP_EMAIL_PORT"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _env.get("SHOP_EMAIL_HOST", "127.0.0.1")
    EMAIL_PORT = int(_env["SHOP_EMAIL_PORT"])
    EMAIL_TIMEOUT = 5
else:
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
DEFAULT_FROM_EMAIL = _env.get("SHOP_EMAIL_FROM", "shop@shop.example")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = _env.get("SHOP_TIME_ZONE", "UTC")
USE_I18N = False

# Errors go to stderr (Gunicorn → supervisord's log), where the on-call engineer looks first.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
        "shop": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
    },
}

# New in v2: warehouses that fulfil orders, in the order they take turns.
SHOP_WAREHOUSES = [w.strip() for w in _env.get("SHOP_WAREHOUSES", "").split(",") if w.strip()]
