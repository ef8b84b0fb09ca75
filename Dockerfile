# PM Value's production image: gunicorn on port 8000; the same image runs the Celery
# worker and beat (see docker-compose.yml). Configure it with the README's variables.
FROM python:3.11-slim

# PYTHONPATH: manage.py, gunicorn and celery import the project from /app, not from the
# copy pip puts in site-packages, so settings find templates/ and static/ beside it.
# DEBUG=false: the image is production; it refuses to start without SECRET_KEY and
# ALLOWED_HOSTS.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DEBUG=false

WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when the pins change. With
# no package source copied yet the project itself installs empty; the second pip
# install below puts in the real one.
COPY pyproject.toml README.md ./
COPY requirements/constraints.txt requirements/constraints.txt
RUN pip install -c requirements/constraints.txt . && rm -rf build *.egg-info

COPY . .
RUN pip install --no-deps -c requirements/constraints.txt . && rm -rf build *.egg-info \
    && python -m compileall -q pm_value accounts strategy initiatives reports

# Hashed, compressed static files for WhiteNoise. DEBUG is off, so settings insist on a
# SECRET_KEY and ALLOWED_HOSTS: dummies, set for this command only, never in the image.
RUN SECRET_KEY=collectstatic-at-build-time-only-not-a-secret-0123456789abcdef \
    ALLOWED_HOSTS=build.invalid \
    python manage.py collectstatic --noinput

# Not root. VAR_DIR (var/) is the one directory the app may write to (Celery beat's
# schedule file lives there).
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app \
    && mkdir -p /app/var \
    && chown app:app /app/var
USER app

EXPOSE 8000
# WEB_CONCURRENCY sets the number of gunicorn workers (gunicorn reads it itself). No
# control socket: it would go to $HOME/.gunicorn, and the app user's home is read-only.
CMD ["gunicorn", "pm_value.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-", \
     "--worker-tmp-dir", "/dev/shm", "--no-control-socket"]
