"""The seed e-mail at 390 px in Chromium: French typography holds at every line break.

No line starts with « : », « ? », « ! », « ; » or « » », and « 17 h 30 » is never cut (typography.py)."""

from __future__ import annotations

from pathlib import Path

from convier.domain.mime import personalise
from convier.inputs.campaignfile import read_campaign
from convier.inputs.post import read_post
from convier.render.invitation import build_invitation
from convier.render.message import render_invitation
from test_browser import browser  # noqa: F401  (the Chromium fixture)

ROOT = Path(__file__).resolve().parents[1]

LINES = r"""
const out = {starts: [], times: [], lines: 0};
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
let prevTop = null, node;
const range = document.createRange();
while ((node = walker.nextNode())) {
  const style = getComputedStyle(node.parentElement);
  if (style.display === 'none' || style.visibility === 'hidden') continue;
  if (node.parentElement.closest('[style*="display:none"]')) continue;
  const text = node.textContent;
  for (let i = 0; i < text.length; i++) {
    if (/\s/.test(text[i]) && text[i] !== '\u00a0' && text[i] !== '\u202f') continue;
    range.setStart(node, i); range.setEnd(node, i + 1);
    const rects = range.getClientRects();
    if (!rects.length || rects[0].width === 0) continue;
    const top = Math.round(rects[0].top);
    if (prevTop !== null && top > prevTop + 4) {
      out.lines++;
      if (':?!;»\u00a0\u202f'.includes(text[i])) out.starts.push(text.slice(Math.max(0, i - 20), i + 20));
    }
    prevTop = top;
  }
  const re = /\d{1,2}\u00a0h\u00a0\d{2}/g;
  let m;
  while ((m = re.exec(text))) {
    range.setStart(node, m.index); range.setEnd(node, m.index + 1);
    const a = range.getClientRects()[0];
    range.setStart(node, m.index + m[0].length - 1); range.setEnd(node, m.index + m[0].length);
    const b = range.getClientRects()[0];
    out.times.push([m[0], a && b && Math.round(a.top) === Math.round(b.top)]);
  }
}
return out;
"""


def test_the_seed_at_390_px_breaks_no_line_before_punctuation(browser, tmp_path):  # noqa: F811
    post = read_post(ROOT / "examples" / "seed-journee-cloud-2023.md")
    invitation = build_invitation(post, read_campaign(ROOT / "examples" / "campagne-journee-cloud.yaml"))
    html = personalise(render_invitation(invitation).message, "jeton", "Camille")[0]
    page = tmp_path / "invitation.html"
    page.write_text(html, encoding="utf-8")
    browser.set_window_size(390, 900)
    browser.get(page.as_uri())
    width = browser.execute_script("return document.documentElement.clientWidth")
    assert width <= 390
    found = browser.execute_script(LINES)
    assert found["lines"] > 50  # the whole e-mail was measured, wrapped at 390 px
    assert found["starts"] == [], found["starts"]
    assert found["times"] and all(joined for _, joined in found["times"]), found["times"]
    assert any(t.replace("\u00a0", " ") == "17 h 30" for t, _ in found["times"])
