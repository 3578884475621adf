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
CMD ["gunicorn", "mipos.wsgi:application", "--workers", "2", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
