"""Writes for customers, customer groups, the balance ledger and loyalty points.

Two totals live on the customer row — `balance` (what the customer owes) and `loyalty_points` —
and each has exactly one writer here (`_balance_post`, `_points_post`): it locks the customer
row, checks the rule of the change (credit limit, store credit held, points held) on the locked
values, moves the total and appends the ledger row in one statement, and audits, all in one
transaction. So a total always equals the sum of its ledger, and twenty parallel charges against
one credit limit are decided one after another on the current balance.

The typed entry points the sales module calls (`customer_charge`, `customer_pay`,
`customer_credit_issue`/`_use`, `customer_refund`, `customer_void`, `loyalty_earn`/`_redeem`/
`_reverse`) take positive amounts; the ledger stores the signed change.

One module per use case: `customers`, `groups`, `balance` (the balance ledger's writers),
`loyalty` (points); `common` holds what they share (the ledger row's reference, the two ledgers
and their one writer)."""

from apps.customers.services.balance import (
    customer_balance_adjust,
    customer_charge,
    customer_credit_issue,
    customer_credit_use,
    customer_pay,
    customer_refund,
    customer_void,
)
from apps.customers.services.common import BALANCE, POINTS, Reference
from apps.customers.services.customers import (
    CUSTOMER_FIELDS,
    MANAGED_FIELDS,
    customer_code,
    customer_create,
    customer_delete,
    customer_update,
)
from apps.customers.services.groups import (
    GROUP_FIELDS,
    customer_group_create,
    customer_group_delete,
    customer_group_update,
)
from apps.customers.services.loyalty import (
    MAX_POINTS,
    loyalty_adjust,
    loyalty_earn,
    loyalty_expire,
    loyalty_expire_due,
    loyalty_redeem,
    loyalty_reverse,
    months_later,
)

__all__ = [
    "BALANCE",
    "CUSTOMER_FIELDS",
    "GROUP_FIELDS",
    "MANAGED_FIELDS",
    "MAX_POINTS",
    "POINTS",
    "Reference",
    "customer_balance_adjust",
    "customer_charge",
    "customer_code",
    "customer_create",
    "customer_credit_issue",
    "customer_credit_use",
    "customer_delete",
    "customer_group_create",
    "customer_group_delete",
    "customer_group_update",
    "customer_pay",
    "customer_refund",
    "customer_update",
    "customer_void",
    "loyalty_adjust",
    "loyalty_earn",
    "loyalty_expire",
    "loyalty_expire_due",
    "loyalty_redeem",
    "loyalty_reverse",
    "months_later",
]
