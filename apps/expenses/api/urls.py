from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.expenses.api import views

router = SimpleRouter(trailing_slash="")
router.register("expenses/categories", views.ExpenseCategoryViewSet, basename="expense-categories")
router.register("expenses", views.ExpenseViewSet, basename="expenses")

urlpatterns = [
    path("expenses/summary", views.ExpenseSummaryView.as_view(), name="expenses-summary"),
    *router.urls,
]
