import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
STRONG_KEY = "k3Yq9-this-is-a-long-random-looking-test-key-8f1e2d7c6b5a4f3e2d1c0b9a8"


def deploy_check(**env):
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DJANGO_") and key != "DATABASE_URL"
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def test_deploy_check_passes_with_production_environment():
    result = deploy_check(
        DJANGO_SECRET_KEY=STRONG_KEY, DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="example.org"
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


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
