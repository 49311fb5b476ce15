"""Calendar files as agendas read them: Mozilla's ical.js (Thunderbird's parser) on winter and summer events,
a UID that belongs to the event, SEQUENCE stored per event and raised when it changes."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from convier.domain.dates import PARIS
from convier.domain.event import Event
from convier.render.calendar import event_calendar, event_uid

ROOT = Path(__file__).resolve().parents[1]
ICALJS = ROOT / ".cache" / "node_modules" / "ical.js" / "dist" / "ical.js"

PROBE = """
import ICAL from %s;
let text = '';
process.stdin.on('data', d => text += d);
process.stdin.on('end', () => {
  const cal = new ICAL.Component(ICAL.parse(text));
  for (const tz of cal.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(tz);
  const ev = new ICAL.Event(cal.getFirstSubcomponent('vevent'));
  const out = {uid: ev.uid, sequence: ev.sequence, start: ev.startDate.toJSDate().toISOString(),
               start_is_date: ev.startDate.isDate, summary: ev.summary,
               has_end: cal.getFirstSubcomponent('vevent').hasProperty('dtend'),
               end: ev.endDate ? ev.endDate.toString() : null,
               rrules: cal.getAllSubcomponents('vtimezone').flatMap(t => t.getAllSubcomponents()
                         .map(c => String(c.getFirstPropertyValue('rrule'))))};
  process.stdout.write(JSON.stringify(out));
});
"""


def ical_js(text: str) -> dict:
    assert ICALJS.is_file(), "ical.js manquant : make chromium l’installe dans .cache/"
    node = shutil.which("node")
    assert node, "node manquant"
    result = subprocess.run([node, "--input-type=module", "-e", PROBE % json.dumps(str(ICALJS))], input=text,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def ics(event: Event, **kw) -> str:
    return event_calendar(event, uid=kw.pop("uid", "atelier-x@numerique.gouv.fr"), title="Atelier",
                          description="Un atelier", url="https://x.fr/rsvp/t", **kw)


@pytest.mark.parametrize("start,utc", [
    (dt.datetime(2026, 7, 9, 14, 0, tzinfo=PARIS), "2026-07-09T12:00:00.000Z"),  # summer: UTC+2
    (dt.datetime(2026, 12, 2, 14, 0, tzinfo=PARIS), "2026-12-02T13:00:00.000Z"),  # winter: UTC+1
    (dt.datetime(2027, 3, 28, 14, 0, tzinfo=PARIS), "2027-03-28T12:00:00.000Z"),  # the day clocks change
])
def test_ical_js_reads_paris_times_right(start, utc):
    got = ical_js(ics(Event(start=start, end=start + dt.timedelta(hours=2))))
    assert got["start"] == utc and got["has_end"]
    assert got["rrules"] == ["FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3", "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10"]


def test_no_end_time_is_the_start_only():
    text = ics(Event(start=dt.datetime(2026, 7, 9, 14, 0, tzinfo=PARIS)))
    assert "DTEND" not in text and "RDATE" not in text
    got = ical_js(text)
    assert got["start"] == "2026-07-09T12:00:00.000Z" and not got["has_end"]


def test_a_multi_day_event_is_an_all_day_span():
    start = dt.datetime(2026, 11, 16, 9, 0, tzinfo=PARIS)
    text = ics(Event(start=start, end=dt.datetime(2026, 11, 18, 18, 0, tzinfo=PARIS)))
    got = ical_js(text)
    assert got["start_is_date"] and got["end"] == "2026-11-19"
    assert "DTSTART;VALUE=DATE:20261116" in text and "TRANSP:TRANSPARENT" in text and "VTIMEZONE" not in text


def test_uid_belongs_to_the_event_and_the_sender_domain():
    start = dt.datetime(2026, 12, 2, 9, 30, tzinfo=PARIS)
    uid = event_uid("/billets/2026-12-02-Journée Cloud.md", Event(start=start), "numerique.gouv.fr")
    assert uid == "2026-12-02-journ-e-cloud-20261202@numerique.gouv.fr"
    later = Event(start=start.replace(hour=14))  # the time moves, the entry stays the same
    assert event_uid("/billets/2026-12-02-Journée Cloud.md", later, "numerique.gouv.fr") == uid


def test_reminder_shares_uid_and_sequence_rises_when_the_time_changes(cli, settings, tmp_path):

    from convier.store import records

    s, c = settings
    (tmp_path / "l.csv").write_text("email\nanne@exemple.gouv.fr\n", encoding="utf-8")
    assert cli("lists", "import", "l", tmp_path / "l.csv").code == 0
    post = tmp_path / "atelier-cloud.md"
    post.write_text("---\ntitle: Atelier Cloud\nevent_start_date: 2026-12-02 14:00:00 +01:00\n"
                    "event_end_date: 2026-12-02 17:00:00 +01:00\nlieu: Station F\n---\nVenez !\n", encoding="utf-8")

    def calendar_of(campaign_id):
        campaign = records.load_campaign(c.dynamodb, s.table, campaign_id)
        return ical_js("".join(p if i % 2 == 0 else "jeton" for i, p in enumerate(campaign.template.ics)))

    first = cli("campaign", "create", "--post", post, "--list", "l").out.split()[-1]
    reminder = cli("campaign", "create", "--post", post, "--list", "l").out.split()[-1]
    a, b = calendar_of(first), calendar_of(reminder)
    assert a["uid"] == b["uid"] == "atelier-cloud-20261202@numerique.gouv.fr"
    assert a["sequence"] == b["sequence"] == 0
    moved = tmp_path / "moved.yaml"
    moved.write_text("event:\n  start: 2026-12-02 15:00:00 +01:00\n  end: 2026-12-02 18:00:00 +01:00\n",
                     encoding="utf-8")
    update = cli("campaign", "create", "--post", post, "--list", "l", "--campaign", moved).out.split()[-1]
    u = calendar_of(update)
    assert u["uid"] == a["uid"] and u["sequence"] == 1 and u["start"] == "2026-12-02T14:00:00.000Z"
    again = cli("campaign", "create", "--post", post, "--list", "l", "--campaign", moved).out.split()[-1]
    assert calendar_of(again)["sequence"] == 1


def test_a_cancellation_is_the_same_event_cancelled_with_a_higher_sequence():
    start = dt.datetime(2026, 7, 9, 14, 0, tzinfo=PARIS)
    event = Event(start=start, end=start + dt.timedelta(hours=2))
    published, cancelled = ics(event, sequence=1), ics(event, sequence=2, cancelled=True)
    assert "METHOD:PUBLISH" in published and "STATUS" not in published
    assert "METHOD:CANCEL\r\n" in cancelled and "STATUS:CANCELLED\r\n" in cancelled
    before, after = ical_js(published), ical_js(cancelled)
    assert (after["uid"], after["start"]) == (before["uid"], before["start"]) and after["sequence"] == 2
