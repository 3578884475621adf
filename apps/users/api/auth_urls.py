from django.urls import path

from apps.users.api import auth_views

urlpatterns = [
    path("login", auth_views.LoginView.as_view(), name="auth-login"),
    path("refresh", auth_views.RefreshView.as_view(), name="auth-refresh"),
    path("logout", auth_views.LogoutView.as_view(), name="auth-logout"),
    path("logout-all", auth_views.LogoutAllView.as_view(), name="auth-logout-all"),
    path("me", auth_views.MeView.as_view(), name="auth-me"),
    path("forgot-password", auth_views.ForgotPasswordView.as_view(), name="auth-forgot-password"),
    path("reset-password", auth_views.ResetPasswordView.as_view(), name="auth-reset-password"),
    path("change-password", auth_views.ChangePasswordView.as_view(), name="auth-change-password"),
]
