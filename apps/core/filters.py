from djangorestframework_camel_case.util import camel_to_underscore
from rest_framework.filters import OrderingFilter


class CamelOrderingFilter(OrderingFilter):
    """`?sort=-createdAt,name`: field names arrive in camelCase like every other key."""

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if params:
            fields = [camel_to_underscore(param.strip()) for param in params.split(",")]
            ordering = self.remove_invalid_fields(queryset, fields, view, request)
            if ordering:
                return ordering
        return self.get_default_ordering(view)
