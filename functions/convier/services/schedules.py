"""Scheduled sends: a campaign or follow-up goes out at a date and time (Paris), once.

The schedule is one item (`SCHEDULES / {id}`, when in UTC) plus, on AWS, an EventBridge Scheduler one-time
schedule that invokes the campaign function (`{"action": "scheduled-send", "campaign": id}`); locally the
embedded default's worker calls `fire_due` (an injected clock in tests). Firing takes the item away by a
conditional delete (a second firing finds nothing), then starts the send as staff would (campaigns.start_send:
services.checks.check_campaign runs again, at that moment), or records on the campaign why it did not go out
(`schedule_error`, which `campaign status` shows). Staff move or cancel a schedule until it fires.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from convier.domain import dates
from convier.errors import InputError
from convier.services import campaigns
from convier.services.checks import SendRefused
from convier.store import ddb, keys, records

log = logging.getLogger("convier.schedules")


@dataclass(frozen=True)
class AwsScheduler:
    """Where one-time schedules go on AWS (the stack's group and role; the campaign function's ARN)."""

    client: object
    group: str
    role_arn: str
    target_arn: str


def _utc(moment: dt.datetime) -> dt.datetime:
    return dates.paris(moment).astimezone(dt.UTC)


def _now(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)


def schedule_name(campaign_id: str) -> str:
    return f"convier-{campaign_id}"


def schedule(clients, settings, campaign_id: str, when: dt.datetime, *, now: dt.datetime | None = None,
             aws: AwsScheduler | None = None) -> dt.datetime:
    """Schedules (or moves) the send of a draft campaign; returns the moment in UTC."""
    campaign = campaigns.require(clients, settings, campaign_id)
    if campaign.status not in (records.DRAFT,):
        raise InputError(f"campagne {campaign_id} : seul un brouillon peut être programmé "
                         f"(elle est « {campaign.status} »)")
    at = _utc(when)
    if at <= _now(now):
        raise InputError(f"{dates.paris(at):%d/%m/%Y %H:%M} (heure de Paris) est déjà passé")
    if aws is not None:
        _aws_put(aws, campaign_id, at)
    ddb.batch_write(clients.dynamodb, settings.table, [{"PK": keys.SCHEDULES, "SK": campaign_id,
                                                        "at": at.isoformat(), "set_at": records.now_iso()}])
    clients.dynamodb.update_item(TableName=settings.table, Key=ddb.key(*keys.campaign_key(campaign_id)),
                                 UpdateExpression="SET scheduled_at = :a REMOVE schedule_error",
                                 ExpressionAttributeValues={":a": {"S": at.isoformat()}})
    return at


def _aws_put(aws: AwsScheduler, campaign_id: str, at: dt.datetime) -> None:
    import json

    request = {"Name": schedule_name(campaign_id), "GroupName": aws.group,
               "ScheduleExpression": f"at({at:%Y-%m-%dT%H:%M:%S})", "ScheduleExpressionTimezone": "UTC",
               "FlexibleTimeWindow": {"Mode": "OFF"}, "ActionAfterCompletion": "DELETE",
               "Target": {"Arn": aws.target_arn, "RoleArn": aws.role_arn,
                          "Input": json.dumps({"action": "scheduled-send", "campaign": campaign_id})}}
    try:
        aws.client.create_schedule(**request)
    except aws.client.exceptions.ConflictException:
        aws.client.update_schedule(**request)


def unschedule(clients, settings, campaign_id: str, *, aws: AwsScheduler | None = None) -> bool:
    """Cancels a schedule that has not fired; False when there was none."""
    campaigns.require(clients, settings, campaign_id)
    try:
        clients.dynamodb.delete_item(TableName=settings.table, Key=ddb.key(*keys.schedule_key(campaign_id)),
                                     ConditionExpression="attribute_exists(SK)")
    except clients.dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    if aws is not None:
        try:
            aws.client.delete_schedule(Name=schedule_name(campaign_id), GroupName=aws.group)
        except aws.client.exceptions.ResourceNotFoundException:
            pass
    clients.dynamodb.update_item(TableName=settings.table, Key=ddb.key(*keys.campaign_key(campaign_id)),
                                 UpdateExpression="REMOVE scheduled_at")
    return True


def scheduled(clients, settings) -> dict[str, dt.datetime]:
    """campaign id → when (UTC), for every schedule not fired yet."""
    return {item["SK"]: dt.datetime.fromisoformat(item["at"])
            for item in ddb.query(clients.dynamodb, settings.table, keys.SCHEDULES)}


@dataclass(frozen=True)
class Fired:
    campaign_id: str
    enqueued: int = 0
    refused: str = ""  # why it did not go out


def fire(clients, settings, campaign_id: str, *, now: dt.datetime | None = None) -> Fired | None:
    """The schedule's moment has come: take it (once), check again, send or say why not. None when there was
    nothing to fire (fired already, cancelled, or moved later)."""
    now = _now(now)
    try:
        clients.dynamodb.delete_item(
            TableName=settings.table, Key=ddb.key(*keys.schedule_key(campaign_id)),
            ConditionExpression="attribute_exists(SK) AND #at <= :now", ExpressionAttributeNames={"#at": "at"},
            ExpressionAttributeValues={":now": {"S": now.isoformat()}})
    except clients.dynamodb.exceptions.ConditionalCheckFailedException:
        return None
    problems: list[str] = []
    enqueued = 0
    try:  # the checks of any send (services.checks.check_campaign), run again now: a blocking one stops it
        enqueued = campaigns.start_send(clients, settings, campaign_id, now=now).enqueued
    except SendRefused as exc:
        problems = [f"{p.message} ({p.where})" for p in exc.report.blocking] if exc.report else [str(exc)]
        problems = problems or [str(exc)]
    except InputError as exc:  # paused, cancelled, the event cancelled (services.lifecycle.may_send)
        problems = [str(exc)]
    if problems:
        reason = "envoi programmé arrêté : " + " ; ".join(problems)
        clients.dynamodb.update_item(TableName=settings.table, Key=ddb.key(*keys.campaign_key(campaign_id)),
                                     UpdateExpression="SET schedule_error = :e REMOVE scheduled_at",
                                     ExpressionAttributeValues={":e": {"S": reason}})
        log.warning("scheduled send of %s refused: %s", campaign_id, reason)
        return Fired(campaign_id, refused=reason)
    clients.dynamodb.update_item(TableName=settings.table, Key=ddb.key(*keys.campaign_key(campaign_id)),
                                 UpdateExpression="SET fired_at = :t REMOVE scheduled_at",
                                 ExpressionAttributeValues={":t": {"S": now.isoformat()}})
    return Fired(campaign_id, enqueued=enqueued)


def fire_due(clients, settings, *, now: dt.datetime | None = None) -> list[Fired]:
    """Every schedule whose moment has come (the embedded default's worker calls this)."""
    now = _now(now)
    fired = []
    for campaign_id, at in sorted(scheduled(clients, settings).items(), key=lambda kv: kv[1]):
        if at <= now:
            result = fire(clients, settings, campaign_id, now=now)
            if result is not None:
                fired.append(result)
    return fired


def schedule_error(clients, settings, campaign_id: str) -> str:
    item = ddb.get(clients.dynamodb, settings.table, *keys.campaign_key(campaign_id),
                   projection="schedule_error") or {}
    return item.get("schedule_error", "")
