"""Payment gateways: where a card is registered for monthly charges.

The portal never keeps a card number: it hands the checked input to the tenant's gateway
(``[features.billing] gateway``) and stores what the gateway returns — a token, the brand, the last
four digits and the expiry. A real gateway (GMO-PG, SB Payment, ...) implements
:class:`PaymentGateway` and is added to :data:`GATEWAYS`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

from mypage.billing.cards import CardInput


@dataclass(frozen=True)
class CardRegistration:
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int

    @property
    def expiry(self) -> str:
        return f"{self.exp_month:02d}/{self.exp_year % 100:02d}"

    def as_dict(self) -> dict:
        return {
            "token": self.token,
            "brand": self.brand,
            "last4": self.last4,
            "exp_month": self.exp_month,
            "exp_year": self.exp_year,
        }


class GatewayError(Exception):
    """The gateway refused the card; the message can be shown to the customer."""


class PaymentGateway(Protocol):
    name: str

    async def register_card(self, card: CardInput, *, tenant: str, customer_number: str) -> CardRegistration:
        """Registers the card for future charges (no charge now); returns its token and display data."""
        ...


class BuiltinGateway:
    """Keeps nothing but a random token: for development and operators that charge cards offline."""

    name = "builtin"

    async def register_card(self, card: CardInput, *, tenant: str, customer_number: str) -> CardRegistration:
        return CardRegistration(
            token="tok_" + secrets.token_urlsafe(24),
            brand=card.brand,
            last4=card.number[-4:],
            exp_month=card.exp_month,
            exp_year=card.exp_year,
        )


GATEWAYS: dict[str, type] = {"builtin": BuiltinGateway}


def gateway_for(name: str) -> PaymentGateway:
    return GATEWAYS[name]()
