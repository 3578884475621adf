from __future__ import annotations

from rest_framework import serializers

from apps.devtools.models import LogEntry


class LogEntrySerializer(serializers.ModelSerializer):
    """One stored log line. `requestId` is the trace id: the `X-Request-ID` of the response."""

    class Meta:
        model = LogEntry
        fields = [
            "id",
            "time",
            "level",
            "logger",
            "message",
            "request_id",
            "tenant",
            "user_id",
            "method",
            "path",
            "status",
            "duration_ms",
            "exception_type",
            "traceback",
            "extra",
        ]
        read_only_fields = fields
