"""The tenant staff's side of お問い合わせ: list, approve and reject (service functions and CLI).

Approving an application applies it:

- ``call_details`` (通話明細記録について): call details are recorded from the NEXT month
  (``Contract.call_details_from``) for the contract chosen in the form, or else for every contract of
  the customer that has phone lines; a contract already recording from an earlier month keeps it.
- ``paper_stop_*`` (紙発送停止): a :class:`PaperStop` effective from the next sending (next month).

A decision closes the thread (対応状況 完了). The console's inbox and ``mypage staff inquiries`` / ``approve`` /
``reject`` both drive these functions.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import click

from mypage import i18n
from mypage.audit.actor import Actor, record_action
from mypage.db.locks import lock_for_update, serialised
from mypage.inquiries.repository import InquiryRepository
from mypage.inquiries.service import category, next_month, reference
from mypage.inquiries.tables import Inquiry
from mypage.mail.outbox import enqueue
from mypage.records.tables import Customer
from mypage.tenancy.registry import Tenant

PAPER_KINDS = {
    "paper_stop_opening_notice": "opening_notice",
    "paper_stop_transfer_notice": "transfer_notice",
}


class StaffError(Exception):
    """An inquiry that cannot be decided (unknown, or already decided)."""


async def list_inquiries(tenant: Tenant, *, status: str | None = None, limit: int = 200) -> list[Inquiry]:
    return await InquiryRepository(tenant.slug).listing(status=status, limit=limit)


async def _pending(tenant: Tenant, inquiry_id: int) -> Inquiry:
    inquiry = await InquiryRepository(tenant.slug).by_id(inquiry_id)
    if inquiry is None:
        raise StaffError(f"お問い合わせ {inquiry_id} は見つかりません。")
    if inquiry.status != "received":
        raise StaffError(f"お問い合わせ {inquiry_id} は処理済みです（{inquiry.status}）。")
    return inquiry


async def approve(
    portal, tenant: Tenant, inquiry_id: int, *, staff: str = "staff", on: date | None = None, actor: Actor | None = None
) -> Inquiry:
    """Approves the inquiry and applies what it asks for; returns it. Raises :class:`StaffError`.

    ``actor``: the console's staff member (else ``staff`` names the script)."""
    actor = actor or Actor(staff)
    staff = actor.name
    repo = InquiryRepository(tenant.slug)
    effective = next_month(on or i18n.today(tenant.config.timezone))
    async with serialised(Inquiry, inquiry_id):  # decided once, even by two staff at the same moment
        inquiry = await _pending(tenant, inquiry_id)
        if inquiry.customer is not None:
            # the customer's paper stops are "at most one per kind": two inquiries approved at once insert one
            await lock_for_update(Customer, inquiry.customer)
        before = {"status": inquiry.status, "state": inquiry.state}
        applied: dict = {}
        if inquiry.applies == "call_details" and inquiry.customer is not None:
            contracts = await repo.phone_contracts(inquiry.customer)
            if inquiry.contract is not None:
                contracts = [c for c in contracts if c.id == inquiry.contract]
            targets = [c.id for c in contracts if not c.call_details_from or c.call_details_from > effective]
            await repo.set_call_details_from(targets, effective)
            applied = {"contracts": [c.number for c in contracts], "call_details_from": effective}
        elif inquiry.applies in PAPER_KINDS and inquiry.customer is not None:
            await repo.record_paper_stop(inquiry.customer, PAPER_KINDS[inquiry.applies], effective, inquiry.id)
            applied = {"paper_stop": PAPER_KINDS[inquiry.applies], "from": effective}
        await repo.decide(
            inquiry,
            status="approved",
            state="closed",
            decided_at=datetime.now(UTC),
            decided_by=staff,
            effective_from=effective if inquiry.applies != "none" else "",
        )
        if inquiry.reply_to and inquiry.applies != "none":
            chosen = category(tenant, inquiry.category)
            await enqueue(
                portal,
                tenant,
                to=inquiry.reply_to,
                template="inquiry_approved",
                context={
                    "reference": reference(inquiry),
                    "category_label": chosen.label if chosen else None,
                    "category_key": inquiry.category,
                    "applies": inquiry.applies,
                    "subject": inquiry.subject,
                    "effective_from": effective,
                },
            )
        await record_action(
            tenant.slug,
            actor,
            "inquiry.approved",
            customer_id=inquiry.customer,
            before=before,
            after={"status": "approved", "state": "closed", **applied},
            inquiry_id=inquiry.id,
            applies=inquiry.applies,
        )
    return inquiry


async def reject(tenant: Tenant, inquiry_id: int, *, staff: str = "staff", note: str = "", actor: Actor | None = None) -> Inquiry:
    actor = actor or Actor(staff)
    repo = InquiryRepository(tenant.slug)
    async with serialised(Inquiry, inquiry_id):
        inquiry = await _pending(tenant, inquiry_id)
        before = {"status": inquiry.status, "state": inquiry.state}
        await repo.decide(
            inquiry, status="rejected", state="closed", decided_at=datetime.now(UTC), decided_by=actor.name, note=note[:500]
        )
        await record_action(
            tenant.slug,
            actor,
            "inquiry.rejected",
            customer_id=inquiry.customer,
            before=before,
            after={"status": "rejected", "state": "closed", "note": note[:500]},
            inquiry_id=inquiry.id,
        )
    return inquiry


# --- CLI: ``mypage staff ...`` --------------------------------------------------------------------------------


def _portal_and_run(coro_factory):
    from mypage.cli import _check_tenants, _prepare_database, _settings

    settings = _settings()
    portal = _check_tenants(settings)

    async def go():
        await _prepare_database(settings)
        return await coro_factory(portal)

    return asyncio.run(go())


def _tenant(portal, slug: str) -> Tenant:
    if slug not in portal.tenants.slugs:
        raise click.ClickException(f"テナント「{slug}」はありません(あるのは: {', '.join(portal.tenants.slugs)})。")
    tenant = portal.tenants.get(slug)
    if not tenant.config.features.enabled("inquiries"):
        raise click.ClickException(f"テナント「{slug}」ではお問い合わせ機能が有効ではありません。")
    return tenant


@click.group()
def staff() -> None:
    """Tenant staff work (お問い合わせの確認・承認)."""


@staff.command(name="inquiries")
@click.option("--tenant", "slug", default=None, help="Only this tenant (default: every tenant with inquiries).")
@click.option("--status", type=click.Choice(["received", "approved", "rejected", "all"]), default="received", show_default=True)
def inquiries_command(slug: str | None, status: str) -> None:
    """List inquiries (newest first)."""

    async def go(portal):
        tenants = [_tenant(portal, slug)] if slug else [t for t in portal.tenants if t.config.features.enabled("inquiries")]
        count = 0
        for tenant in tenants:
            for inquiry in await list_inquiries(tenant, status=None if status == "all" else status):
                chosen = category(tenant, inquiry.category)
                label = chosen.label.ja if chosen else inquiry.category
                created = inquiry.created_at.astimezone().strftime("%Y-%m-%d %H:%M") if inquiry.created_at else ""
                click.echo(
                    f"{tenant.slug:8} #{inquiry.id:<6} {created} {inquiry.status:9} customer={inquiry.customer} "
                    f"[{label}]{'' if inquiry.applies == 'none' else f' applies={inquiry.applies}'} {inquiry.subject}"
                )
                count += 1
        click.echo(f"{count} 件")

    _portal_and_run(go)


@staff.command(name="approve")
@click.argument("slug", metavar="TENANT")
@click.argument("inquiry_id", type=int)
@click.option("--by", "by", default="cli", help="Staff name recorded in the audit log.")
def approve_command(slug: str, inquiry_id: int, by: str) -> None:
    """Approve an inquiry (applies 通話明細記録 / 紙発送停止 from next month)."""

    async def go(portal):
        tenant = _tenant(portal, slug)
        try:
            inquiry = await approve(portal, tenant, inquiry_id, staff=by)
        except StaffError as exc:
            raise click.ClickException(str(exc)) from exc
        suffix = f"（{inquiry.effective_from} から適用）" if inquiry.effective_from else ""
        click.echo(f"承認しました: #{inquiry.id} {inquiry.subject}{suffix}")

    _portal_and_run(go)


@staff.command(name="reject")
@click.argument("slug", metavar="TENANT")
@click.argument("inquiry_id", type=int)
@click.option("--by", "by", default="cli", help="Staff name recorded in the audit log.")
@click.option("--note", default="", help="Reason (kept with the inquiry).")
def reject_command(slug: str, inquiry_id: int, by: str, note: str) -> None:
    """Reject an inquiry."""

    async def go(portal):
        tenant = _tenant(portal, slug)
        try:
            inquiry = await reject(tenant, inquiry_id, staff=by, note=note)
        except StaffError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"却下しました: #{inquiry.id}")

    _portal_and_run(go)
