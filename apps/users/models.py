from __future__ import annotations

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.crypto import salted_hmac

from apps.core.models import DeferredLoadedTogether, SoftDeleteQuerySet
from apps.core.roles import Role


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


class UserManager(BaseUserManager.from_queryset(SoftDeleteQuerySet)):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email=normalize_email(username))

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("name", "Platform admin")
        fields.update(role=Role.SUPER_ADMIN, tenant=None)
        return self.create_user(email, password, **fields)


class User(DeferredLoadedTogether, AbstractBaseUser):
    """One platform-wide user table: email is unique across tenants, so login needs no tenant.

    A user belongs to one tenant (super admins to none). `token_version` is copied into every token;
    bumping it makes every token issued before unusable.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True)
    name = models.CharField(max_length=150)
    phone = models.CharField(max_length=32, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices)
    tenant = models.ForeignKey(
        "tenants.Tenant", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    is_active = models.BooleanField(default=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    token_version = models.PositiveIntegerField(default=0)
    # the approval PIN (PUT /users/me/pin), hashed like the password; blank: none set
    pin_hash = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="user_email_lowercase"
            ),
            models.CheckConstraint(
                condition=models.Q(role=Role.SUPER_ADMIN, tenant__isnull=True)
                | (~models.Q(role=Role.SUPER_ADMIN) & models.Q(tenant__isnull=False)),
                name="user_tenant_matches_role",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "role"], name="user_tenant_role_idx")]

    def __str__(self) -> str:
        return self.email

    @property
    def is_super_admin(self) -> bool:
        return self.role == Role.SUPER_ADMIN

    @property
    def can_sign_in(self) -> bool:
        return self.is_active and self.deleted_at is None

    # Django admin: the console is for platform operators only.
    @property
    def is_staff(self) -> bool:
        return self.is_super_admin and self.can_sign_in

    @property
    def is_superuser(self) -> bool:
        return self.is_staff

    def has_perm(self, perm, obj=None) -> bool:
        return self.is_staff

    def has_module_perms(self, app_label) -> bool:
        return self.is_staff

    def _get_session_auth_hash(self, secret=None) -> str:
        # Django checks this on every console request: with the token version in it, whatever
        # ends the API's sessions (logout-all, a password change or reset, deactivation) ends the
        # console's too.
        return salted_hmac(
            "apps.users.models.User.get_session_auth_hash",
            f"{self.password}:{self.token_version}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


class PlatformAdmin(User):
    """The console's "Platform admins" page: the super admins (its admin filters the rows)."""

    class Meta:
        proxy = True
        verbose_name = "platform admin"
        verbose_name_plural = "platform admins"


class CompanyUser(User):
    """The console's "Company users" page: every company's staff, read-only."""

    class Meta:
        proxy = True
        verbose_name = "company user"
        verbose_name_plural = "company users"


class RefreshTokenRotation(models.Model):
    """Marks a refresh token that was exchanged for a new pair. Such a token coming back is
    a replay (stolen token): all of the user's sessions are revoked. A token that was merely
    logged out is refused without that."""

    token = models.OneToOneField(
        "token_blacklist.OutstandingToken", on_delete=models.CASCADE, related_name="rotation"
    )
    rotated_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"rotation of {self.token_id}"


class PasswordResetToken(models.Model):
    """A one-time password-reset token sent by e-mail (`forgot-password`). Only its SHA-256 is
    stored, so a copy of the table opens no account; `password_stamp` is the SHA-256 of the
    password hash it was issued under, so any password change since refuses it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    password_stamp = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="password_reset_user_idx")]

    def __str__(self) -> str:
        return f"password reset of {self.user_id}"
