"""
The memory of one gunicorn worker serving every page that bench/run.py times, once each
(twice for a cold start's caches), on a data set already generated:

    .venv/bin/python bench/worker_memory.py --activities 1000000   # or: make bench-memory N=…
    .venv/bin/python bench/worker_memory.py --activities 100000 --only export

The database is the one DATABASE_URL names, or bench/out/demo-<N>.sqlite3 without it, as
for bench/run.py. One sync worker with the production settings (DEBUG off) serves on a free
port of 127.0.0.1; admin pages are asked for with a staff session. Prints the worker's
resident memory after each page and its peak (VmHWM), against WORKER_LIMIT_MB. The pages
end with the exports bench/run.py times, each the whole list (up to its row limit).
"""

import argparse
import os
import secrets
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import OUT, export_scenarios, scenarios  # noqa: E402
from tests.load.concurrent_saves import SETTINGS_MODULE, Gunicorn, write_settings  # noqa: E402

WORKER_LIMIT_MB = 150


def staff_session_cookie():
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def worker_of(master):
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0])


def memory_mb(pid, key):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    raise LookupError(key)


def fetch(url, cookie):
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, len(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, len(error.read())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--activities", "-n", type=int, default=10_000)
    parser.add_argument("--only", help="Only pages whose name contains this: export.")
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{OUT / f'demo-{args.activities}.sqlite3'}")
    folder = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    write_settings(folder, stock_sqlite=False)  # The project's, static files collected here.
    # The server's key, so that the staff session made here is valid there.
    secret_key = secrets.token_urlsafe(50)
    os.environ.update(
        DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
        DJANGO_DEBUG="0",
        DJANGO_ALLOWED_HOSTS="*",
        DJANGO_SECRET_KEY=secret_key,
    )
    sys.path.insert(0, str(folder))
    import django

    django.setup()
    from django.core.management import call_command

    from cooperation.models import Activity

    if not Activity.objects.exists():
        sys.exit("No activities here: run bench/run.py (make bench) first to generate them.")
    call_command("collectstatic", interactive=False, verbosity=0)
    pages, cookie = scenarios() + export_scenarios(), staff_session_cookie()
    pages = [page for page in pages if not args.only or args.only in page.name]
    server = Gunicorn(folder, os.environ["DATABASE_URL"], 1, secret_key)
    try:
        server.wait_until_ready()
        worker = worker_of(server.process.pid)
        print(f"{'page':<28} {'status':>6} {'KB':>8} {'RSS MB':>8}")
        for page in pages:
            for _ in range(2):
                status, size = fetch(server.base + page.url, cookie if page.admin else "")
            rss = memory_mb(worker, "VmRSS")
            print(f"{page.name:<28} {status:>6} {size / 1000:>8.1f} {rss:>8.1f}", flush=True)
        peak = memory_mb(worker, "VmHWM")
    finally:
        server.stop()
    verdict = "within" if peak <= WORKER_LIMIT_MB else "OVER"
    print(f"\nWorker peak resident memory: {peak:.1f} MB, {verdict} {WORKER_LIMIT_MB} MB.")


if __name__ == "__main__":
    main()
