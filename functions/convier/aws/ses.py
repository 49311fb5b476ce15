"""SES checks that are not sends: is this sender's identity ready to send on this account?"""

from __future__ import annotations

from convier.aws.resources import sender_domain
from convier.errors import InputError


def verify_sender(ses, sender: str) -> str:
    """The sender's domain identity, verified for sending (on AWS it is verified once, with DKIM, outside
    convier); a French InputError saying what to do otherwise."""
    domain = sender_domain(sender)
    try:
        identity = ses.get_email_identity(EmailIdentity=domain)
    except ses.exceptions.NotFoundException:
        raise InputError(f"expéditeur {sender!r} : le domaine {domain} n’est pas une identité SES de ce compte "
                         "(vérifiez-le dans la console SES, avec DKIM)") from None
    if not identity.get("VerifiedForSendingStatus"):
        raise InputError(f"expéditeur {sender!r} : le domaine {domain} n’est pas encore vérifié dans SES")
    return domain


def sender_identities(clients, settings) -> list[str]:
    """The SES identities of the account that may send (addresses and domains), for the sender field."""
    found, kwargs = [], {}
    while True:
        page = clients.ses.list_email_identities(**kwargs)
        found += [i["IdentityName"] for i in page.get("EmailIdentities", ())
                  if i.get("SendingEnabled", True) and (settings.endpoint_url or i.get("VerificationStatus") in
                                                        (None, "SUCCESS"))]
        if not page.get("NextToken"):
            return sorted(found)
        kwargs["NextToken"] = page["NextToken"]
