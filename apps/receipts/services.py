"""Writes for receipts: templates, the count of receipts given of a document (printed with
`?print=true` or e-mailed, so every one after the first is a COPY; previews and data reads are
not counted), and receipts sent by e-mail. Each is audited in its transaction."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.conf import settings as django_settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction

from apps.audit.services import audit_record
from apps.core.db import UNSET, Unset, row_lock, row_update, sent
from apps.core.errors import ServiceUnavailable, ValidationFailed
from apps.receipts import rendering
from apps.receipts.models import ReceiptTemplate
from apps.receipts.selectors import (
    Document,
    ReceiptDocument,
    Template,
    company_template,
    receipt_for,
    store_template,
)
from apps.sales import services as sales
from apps.stores.models import Store
from apps.tenants import receipt_layout as layout
from apps.tenants.models import TenantSettings
from apps.tenants.services import tenant_settings_update
from apps.users.models import User

TEMPLATE_FIELDS = (
    "header",
    "footer",
    "show_logo",
    "fields",
    "return_policy_text",
    "paper",
    "locale",
)


def _template_changes(current: Template, changes: dict[str, Any]) -> dict[str, Any]:
    """The sent values, validated; `fields` completed from the current template's."""
    for name in ("header", "footer", "return_policy_text"):
        if name in changes and len(changes[name]) > layout.TEXT_MAX:
            raise ValidationFailed.for_field(
                name, f"Ensure this field has no more than {layout.TEXT_MAX} characters."
            )
    if "paper" in changes:
        layout.paper_validate(changes["paper"])
    if "locale" in changes:
        changes["locale"] = layout.locale_validate(changes["locale"])
    if "fields" in changes:
        changes["fields"] = layout.fields_validate({**current.fields, **changes["fields"]})
    return changes


def receipt_template_update(
    *,
    actor: User,
    tenant,
    store_id: UUID | None = None,
    header: str | Unset = UNSET,
    footer: str | Unset = UNSET,
    show_logo: bool | Unset = UNSET,
    fields: dict[str, bool] | Unset = UNSET,
    return_policy_text: str | Unset = UNSET,
    paper: str | Unset = UNSET,
    locale: str | Unset = UNSET,
) -> Template:
    """Sets what is sent of the company's template (`store_id` None: kept in its settings) or of
    a store's own (created from the company's the first time, then independent of it). What is
    not sent stays as it is."""
    changes = sent(
        header=header,
        footer=footer,
        show_logo=show_logo,
        fields=fields,
        return_policy_text=return_policy_text,
        paper=paper,
        locale=locale,
    )
    with transaction.atomic():
        # the company's settings read fresh and locked: `fields` is merged with what they hold
        TenantSettings.objects.get_or_create(tenant=tenant)
        company = TenantSettings.objects.select_for_update().get(tenant=tenant)
        if store_id is None:
            changes = _template_changes(company_template(company), changes)
            updated = tenant_settings_update(
                actor=actor,
                tenant=tenant,
                **{f"receipt_{key}": value for key, value in _as_settings(changes).items()},
            )
            return company_template(updated)
        store = row_lock(Store.objects.alive(), store_id)  # one creator of its template at a time
        row = ReceiptTemplate.objects.select_for_update().filter(store=store).first()
        current = company_template(company) if row is None else store_template(row)
        changes = _template_changes(current, changes)
        if row is None:
            values = {**current.as_dict(), **changes}
            row = ReceiptTemplate.objects.create(
                store=store, **{name: values[name] for name in TEMPLATE_FIELDS}
            )
            audit_record(
                action="receipt.template.create",
                entity_type="receipt_template",
                entity_id=row.pk,
                actor=actor,
                after={"store_id": str(store.pk), **{n: values[n] for n in TEMPLATE_FIELDS}},
            )
            return store_template(row)
        row = row_update(
            lock=lambda: row,
            changes=changes,
            actor=actor,
            action="receipt.template.update",
            entity_type="receipt_template",
        )
        return store_template(row)


def _as_settings(changes: dict[str, Any]) -> dict[str, Any]:
    """Template names → the settings' `receipt_*` columns (paper as its width)."""
    renamed = {"return_policy_text": "return_policy", "paper": "paper_width_mm"}
    values = {renamed.get(key, key): value for key, value in changes.items()}
    if "paper_width_mm" in values:
        values["paper_width_mm"] = layout.PAPERS[values["paper_width_mm"]][0]
    return values


# --- generating receipts --------------------------------------------------------------------------
def _entity(document: ReceiptDocument) -> tuple[str, UUID]:
    if document.kind == Document.RETURN:
        return "sale_return", document.sale_return.pk
    return "sale", document.sale.pk


def _print_number_next(document: ReceiptDocument) -> int:
    """One more receipt counted of `document`: its number (1 = the original), by the sales'
    counter writers (one UPDATE of the counter itself, so concurrent generations get distinct
    numbers)."""
    if document.kind == Document.RETURN:
        return sales.sale_return_receipt_counted(sale_return_id=document.sale_return.pk)
    return sales.sale_receipt_counted(sale_id=document.sale.pk, void=document.kind == Document.VOID)


def receipt_issue(
    *, actor: User, document: ReceiptDocument, output: str, gift: bool = False
) -> int:
    """Counts one more receipt printed of `document` and audits it (`receipt.print`, then
    `receipt.reprint`); returns its number: every one given after the first is a copy."""
    entity_type, entity_id = _entity(document)
    with transaction.atomic():
        number = _print_number_next(document)
        audit_record(
            action="receipt.print" if number == 1 else "receipt.reprint",
            entity_type=entity_type,
            entity_id=entity_id,
            actor=actor,
            after={
                "document": document.kind,
                "number": document.number,
                "print_number": number,
                "output": output,
                "gift": gift,
            },
        )
    return number


def receipt_email_send(
    *, actor: User, document: ReceiptDocument, to: str, gift: bool = False
) -> int:
    """Sends the receipt (text, with the HTML as an alternative) through Django's mail backend:
    counted like any receipt generated, audited as `receipt.email` with the recipient. A mail
    server that refuses answers 503 and nothing is recorded. Returns the print number: an
    e-mail is the original unless a receipt was already given (printed or e-mailed)."""
    entity_type, entity_id = _entity(document)
    with transaction.atomic():
        number = _print_number_next(document)
        view = rendering.receipt_view(
            receipt_for(document=document, tenant=actor.tenant, print_number=number, gift=gift)
        )
        audit_record(
            action="receipt.email",
            entity_type=entity_type,
            entity_id=entity_id,
            actor=actor,
            after={
                "document": document.kind,
                "number": document.number,
                "to": to,
                "print_number": number,
                "gift": gift,
            },
        )
        message = EmailMultiAlternatives(
            subject=f"{view['company_name']}: {view['title'].capitalize()} {document.number}",
            body=rendering.receipt_text(view),
            from_email=django_settings.DEFAULT_FROM_EMAIL,
            to=[to],
        )
        message.attach_alternative(rendering.receipt_document_html(view), "text/html")
        try:
            message.send()
        except OSError as error:  # SMTP errors are OSErrors (refused, timeout, TLS)
            raise ServiceUnavailable("The receipt could not be sent; retry later.") from error
    return number
