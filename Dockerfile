# Production image: gunicorn serves the REST API (WSGI), daphne serves /ws/ (same image, other command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=mipos.settings.production

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# collectstatic needs settings, not a database: give it a placeholder URL.
RUN DATABASE_URL=postgresql://build@localhost/build SECRET_KEY=build-only \
    python manage.py collectstatic --noinput -v 0

RUN useradd --system --uid 1000 mipos && chown -R mipos /app
USER mipos
EXPOSE 8000
# REST API: gunicorn, 2 sync workers (deploy/gunicorn.conf.py; GUNICORN_WORKERS to change), each
# keeping one PostgreSQL connection (production settings: DB_CONN_MAX_AGE=600, health-checked).
# The websocket service runs `daphne` from this image with DB_POOL_MAX_SIZE set (see compose).
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "mipos.wsgi:application"]
