"""The console's campaign form → the campaign file's settings: Paris time, French errors naming the field."""

from __future__ import annotations

import datetime as dt

import pytest

from convier.errors import InputError
from convier.inputs.campaignform import settings_from_form

BASE = {"answer_yes": "1", "answer_no": "1"}


def test_dates_are_read_in_paris_time_and_answers_from_the_boxes():
    s = settings_from_form({**BASE, "start_date": "2030-01-24", "start_time": "09:00", "end_date": "2030-01-24",
                            "end_time": "17:30", "capacity": "1 500", "place": "Station F"})
    assert s.event.start == dt.datetime(2030, 1, 24, 8, 0, tzinfo=dt.UTC)
    assert s.event.end.utcoffset() == dt.timedelta(hours=1) and s.capacity == 1500
    assert s.answers == ("yes", "no") and s.event.place == "Station F"


@pytest.mark.parametrize("fields, field", [
    ({"start_date": "2030-01-24", "start_time": "10:00", "end_date": "2030-01-24", "end_time": "09:00"}, "« Fin »"),
    ({"start_time": "10:00"}, "« Début »"),
    ({"start_date": "24/01/2030"}, "« Début »"),
    ({"capacity": "beaucoup"}, "« Capacité »"),
    ({"sender": "pas une adresse"}, "« Expéditeur »"),
    ({"online_url": "http://webinaire.exemple.fr"}, "« Lien de connexion »"),
])
def test_errors_name_the_form_field_in_french(fields, field):
    with pytest.raises(InputError) as refused:
        settings_from_form({**BASE, **fields})
    assert field in str(refused.value) and str(refused.value).startswith("formulaire")


def test_at_least_one_answer():
    with pytest.raises(InputError, match="Réponses proposées"):
        settings_from_form({})
