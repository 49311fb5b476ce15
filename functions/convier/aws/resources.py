"""The AWS resources convier needs, defined once: the table, the send queue and its dead-letter queue,
the SES identity and configuration set.

On AWS the stack (template.yaml) creates them; on the embedded default, or against any
`--endpoint-url`, `ensure_resources` creates whatever is missing with the same boto3 calls.
Every function here is idempotent and safe when two processes run it at once.
"""

from __future__ import annotations

import json
from email.utils import parseaddr

from botocore.exceptions import ClientError

from convier.domain.mime import ascii_domain
from convier.settings import DEFAULT_DLQ, DEFAULT_QUEUE, Clients, Settings

# The one table definition (template.yaml declares the same keys).
TABLE_DEFINITION = {
    "AttributeDefinitions": [
        {"AttributeName": "PK", "AttributeType": "S"},
        {"AttributeName": "SK", "AttributeType": "S"},
    ],
    "KeySchema": [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
}

MAX_RECEIVE_COUNT = 5  # receives before a message goes to the dead-letter queue
VISIBILITY_TIMEOUT = 360  # seconds; six times the send function's timeout, as in template.yaml
RETENTION = 14 * 24 * 3600  # the dead-letter queue keeps messages as long as SQS allows


def _code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def _get_or_create(get, create, missing: str) -> bool:
    """`create()` when `get()` fails with `missing`; another process creating it meanwhile is fine.

    True when this call created it.
    """
    try:
        get()
        return False
    except ClientError as exc:
        if _code(exc) != missing:
            raise
    try:
        create()
    except ClientError as exc:
        if "AlreadyExists" not in _code(exc) and _code(exc) != "ResourceInUseException":
            raise
    return True


def ensure_table(ddb, table: str) -> None:
    if _get_or_create(lambda: ddb.describe_table(TableName=table),
                      lambda: ddb.create_table(TableName=table, **TABLE_DEFINITION), "ResourceNotFoundException"):
        ddb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


def queue_name(url: str, default: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1] if url else default


def ensure_queues(sqs, queue: str = DEFAULT_QUEUE, dead_letter_queue: str = DEFAULT_DLQ) -> tuple[str, str]:
    """The send queue with its redrive policy (maxReceiveCount 5) to the dead-letter queue: (url, dlq url)."""
    try:  # both there already: nothing to write (keeps the embedded default's recording short)
        url, dlq_url = (sqs.get_queue_url(QueueName=n)["QueueUrl"] for n in (queue, dead_letter_queue))
        return url, dlq_url
    except ClientError as exc:
        if "NonExistentQueue" not in _code(exc):
            raise
    dlq_url = sqs.create_queue(QueueName=dead_letter_queue,
                               Attributes={"MessageRetentionPeriod": str(RETENTION)})["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)})
    attributes = {"VisibilityTimeout": str(VISIBILITY_TIMEOUT), "RedrivePolicy": redrive}
    try:
        url = sqs.create_queue(QueueName=queue, Attributes=attributes)["QueueUrl"]
    except ClientError as exc:
        if "QueueAlreadyExists" not in _code(exc) and "QueueNameExists" not in _code(exc):
            raise
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    return url, dlq_url


def ensure_configuration_set(ses, name: str) -> None:
    _get_or_create(lambda: ses.get_configuration_set(ConfigurationSetName=name),
                   lambda: ses.create_configuration_set(ConfigurationSetName=name), "NotFoundException")


def sender_domain(sender: str) -> str:
    """The domain of `Name <a@b.fr>`, `a@b.fr` or `b.fr`: the SES identity a sender sends under."""
    _, address = parseaddr(sender)
    return ascii_domain((address or sender).rsplit("@", 1)[-1].strip(" <>"))


def ensure_sender_identity(ses, sender: str) -> str:
    """An SES identity for the sender's domain (`Name <a@b.fr>` or `a@b.fr` or `b.fr`); returns the identity.

    The embedded default needs it before SES accepts a message from that sender (moto checks it as SES
    does). On AWS the identity is verified once, with DKIM, outside convier.
    """
    identity = sender_domain(sender)
    if not identity:
        raise ValueError("expéditeur vide")
    _get_or_create(lambda: ses.get_email_identity(EmailIdentity=identity),
                   lambda: ses.create_email_identity(EmailIdentity=identity), "NotFoundException")
    return identity


def ensure_resources(settings: Settings, clients: Clients) -> Settings:
    """Creates what is missing on a local endpoint; returns the settings with the queue URLs filled in.

    Queue names come from `settings.queue_url` / `dead_letter_queue_url` when set (their last
    path segment), else the defaults.
    """
    ensure_table(clients.dynamodb, settings.table)
    url, dlq_url = ensure_queues(clients.sqs, queue_name(settings.queue_url, DEFAULT_QUEUE),
                                 queue_name(settings.dead_letter_queue_url, DEFAULT_DLQ))
    ensure_configuration_set(clients.ses, settings.configuration_set)
    if settings.sender:
        ensure_sender_identity(clients.ses, settings.sender)
    return settings.with_(queue_url=url, dead_letter_queue_url=dlq_url)


def sender_preparer(settings: Settings):
    """On the embedded default and any `--endpoint-url` (an emulator, a stack deployed on one included), a
    campaign's sender identity is created on the spot; on AWS it must already be verified in SES, so nothing
    is handed in and the service checks it. The CLI and the campaign function follow this one rule."""
    return ensure_sender_identity if settings.endpoint_url else None
