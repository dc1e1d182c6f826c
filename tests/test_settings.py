import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
STRONG_KEY = "k3Yq9-this-is-a-long-random-looking-test-key-8f1e2d7c6b5a4f3e2d1c0b9a8"


def python(*args, **env):
    """Run Python in a fresh process whose DJANGO_* environment is exactly `env`."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DJANGO_") and key != "DATABASE_URL"
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def manage(*args, **env):
    return python("manage.py", *args, **env)


def start_web_application(**env):
    """Load the WSGI application as gunicorn and runserver do."""
    return python("-c", "import config.wsgi", **env)


def deploy_check(**env):
    return manage("check", "--deploy", "--fail-level", "WARNING", **env)


def setting(name, **env):
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        f"from django.conf import settings; print(settings.{name})",
        **env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_deploy_check_passes_with_production_environment():
    result = deploy_check(
        DJANGO_SECRET_KEY=STRONG_KEY, DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="example.org"
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "env",
    [
        pytest.param({}, id="no-environment"),
        pytest.param({"DJANGO_DEBUG": "0"}, id="no-key"),
        pytest.param(
            {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "django-insecure-development-only"},
            id="development-key",
        ),
    ],
)
def test_web_application_refuses_to_start_on_development_key_without_debug(env):
    result = start_web_application(DJANGO_ALLOWED_HOSTS="example.org", **env)

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is not set" in result.stderr
    assert "secrets.token_urlsafe(50)" in result.stderr  # how to make one


@pytest.mark.parametrize(
    "env",
    [
        pytest.param({"DJANGO_DEBUG": "1"}, id="debug-without-key"),
        pytest.param({"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": STRONG_KEY}, id="own-key"),
    ],
)
def test_web_application_starts_with_own_key_or_debug(env):
    result = start_web_application(**env)

    assert result.returncode == 0, result.stderr


def test_management_commands_run_without_key():
    """`make run` migrates and loads the seed data before it turns DEBUG on for runserver."""
    assert setting("DEBUG") == "False"


@pytest.mark.parametrize(
    ("env", "warning"),
    [
        ({"DJANGO_DEBUG": "0"}, "security.W009"),
        ({"DJANGO_SECRET_KEY": STRONG_KEY, "DJANGO_DEBUG": "1"}, "security.W018"),
        ({"DJANGO_SECRET_KEY": STRONG_KEY, "DJANGO_SECURE": "0"}, "security.W008"),
    ],
)
def test_deploy_check_rejects_development_settings(env, warning):
    result = deploy_check(DJANGO_ALLOWED_HOSTS="example.org", **env)

    assert result.returncode != 0
    assert warning in result.stderr


@pytest.mark.parametrize(
    ("env", "header"),
    [
        pytest.param({}, "None", id="no-proxy"),
        pytest.param({"DJANGO_TRUSTED_PROXY_COUNT": "0"}, "None", id="zero-proxies"),
        pytest.param(
            {"DJANGO_TRUSTED_PROXY_COUNT": "1"},
            "('HTTP_X_FORWARDED_PROTO', 'https')",
            id="one-proxy",
        ),
    ],
)
def test_forwarded_proto_believed_only_behind_trusted_proxy(env, header):
    assert setting("SECURE_PROXY_SSL_HEADER", **env) == header


def test_trusted_proxy_count_read_from_environment():
    assert setting("TRUSTED_PROXY_COUNT", DJANGO_TRUSTED_PROXY_COUNT="2") == "2"


def database_settings(database_url, code):
    """Run `code` in a fresh interpreter with the settings built for `database_url`."""
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    environment.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="config.settings")
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_sqlite_connection_waits_for_the_write_lock(tmp_path):
    sqlite_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    code = (
        "from django.db import connection; cursor = connection.cursor(); "
        "print(cursor.execute('PRAGMA journal_mode').fetchone()[0], "
        "cursor.execute('PRAGMA synchronous').fetchone()[0], "
        "connection.transaction_mode, connection.settings_dict['OPTIONS']['timeout'])"
    )

    # synchronous 1 is NORMAL.
    assert database_settings(sqlite_url, code) == ["wal", "1", "IMMEDIATE", "20"]


def test_sqlite_options_in_database_url_win(tmp_path):
    sqlite_url = f"sqlite:///{tmp_path / 'db.sqlite3'}?timeout=5"
    code = "from django.db import connection; print(connection.settings_dict['OPTIONS']['timeout'])"

    assert database_settings(sqlite_url, code) == ["5"]


def test_postgresql_gets_no_sqlite_options_no_jit_ssd_costs_and_a_connect_timeout():
    code = "from django.db import connection; print(connection.settings_dict['OPTIONS'])"

    options = database_settings("postgres://tracker@db.example.org:5432/tracker", code)

    assert options == [
        "{'options':",
        "'-c",
        "jit=off",
        "-c",
        "random_page_cost=1.1',",
        "'connect_timeout':",
        "5}",
    ]


def test_api_throttle_rate_comes_from_the_environment():
    assert setting("API_THROTTLE_RATE") == "120/minute"
    assert setting("API_THROTTLE_RATE", DJANGO_API_THROTTLE_RATE="30/hour") == "30/hour"


def test_unreadable_api_throttle_rate_stops_the_site_with_a_message():
    result = manage("check", DJANGO_API_THROTTLE_RATE="lots")

    assert result.returncode != 0
    assert "DJANGO_API_THROTTLE_RATE is 'lots': write it as 120/minute" in result.stderr


def test_cache_is_each_workers_own_unless_the_environment_names_a_shared_one(tmp_path):
    assert "LocMemCache" in setting("CACHES")
    folder = tmp_path / "cache"
    shared = setting("CACHES", DJANGO_CACHE_URL=f"file://{folder}")
    assert "FileBasedCache" in shared
    assert str(folder) in shared
    assert "RedisCache" in setting("CACHES", DJANGO_CACHE_URL="redis://127.0.0.1:6379/0")


def test_file_cache_is_shared_between_processes(tmp_path):
    url = f"file://{tmp_path / 'cache'}"
    code = "from django.core.cache import cache; {}"
    written = manage(
        "shell",
        "--no-imports",
        "-c",
        code.format("cache.set('k', 'kept', 60)"),
        DJANGO_CACHE_URL=url,
    )
    assert written.returncode == 0, written.stderr
    read = manage(
        "shell", "--no-imports", "-c", code.format("print(cache.get('k'))"), DJANGO_CACHE_URL=url
    )
    assert read.stdout.strip() == "kept"


@pytest.mark.parametrize("url", ["memcached://127.0.0.1", "file://relative/folder"])
def test_unreadable_cache_url_stops_the_site_with_a_message(url):
    result = manage("check", DJANGO_CACHE_URL=url)

    assert result.returncode != 0
    assert f"DJANGO_CACHE_URL is {url!r}: write file:///an/absolute/folder" in result.stderr


def test_a_worker_sets_what_it_loaded_aside_from_the_garbage_collector():
    result = python(
        "-c",
        "import gc, config.wsgi; print(gc.get_freeze_count())",
        DJANGO_SECRET_KEY=STRONG_KEY,
        DJANGO_DEBUG="0",
        DJANGO_ALLOWED_HOSTS="example.org",
    )

    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 10_000  # Django, the apps, the admin, the URLs and views.
