"""Messages per second: render once per edition + substitute, against render per recipient.

Builds (and serialises) messages for 10,000 synthetic recipients in nine languages
from the example workspace, and compares with a naive baseline that runs the
template engine and the CSS inliner for every recipient, measured in the same
run on a smaller sample. Prints rates and their ratio; asserts nothing.

    .venv/bin/python benchmarks/bench_messages.py [--recipients N] [--baseline N]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newsletter.audience.lists import Recipient  # noqa: E402
from newsletter.audience.selection import make_plan  # noqa: E402
from newsletter.audience.tokens import Signer  # noqa: E402
from newsletter.content.parser import load_release  # noqa: E402
from newsletter.delivery.mime import MessageBuilder, prepare  # noqa: E402
from newsletter.render.renderer import Renderer  # noqa: E402
from newsletter.workspace.loading import load_workspace  # noqa: E402

LANGS = ("de", "en", "tr", "ar", "ru", "uk", "pl", "fa", "ku")
NAMES = ("Ayşe Korkmaz", "Karim Haddad", "Olga Petrenko", "Katarzyna Nowak", "Reza Ahmadi",
         "Rojda Aydın", "Jana Becker", "John Smith", "")


def synthetic(n: int) -> tuple[Recipient, ...]:
    return tuple(Recipient(email=f"person{i}@bench.example.org", name=NAMES[i % len(NAMES)],
                           language=LANGS[i % len(LANGS)], lists=("bench",)) for i in range(n))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=180,
                        help="recipients for the per-recipient baseline (it is slow)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        root.mkdir()
        for part in ("newsletter.toml", "releases", "locales", "recipients"):
            src = REPO / part
            (shutil.copytree if src.is_dir() else shutil.copy2)(src, root / part)
        ws = load_workspace(root)
        release = load_release(ws.releases_dir / "2018-08-23-kooperationsvertrag.md", ws.root)
        signer = Signer(b"benchmark-secret-0123456789abcdef", b"benchmark-address-key-0123456789",
                        "benchmark")
        builder = MessageBuilder(ws, signer, "bench-campaign")
        asset = lambda p: f"https://verbund.example.org/newsletter/{p.name}"  # noqa: E731

        people = synthetic(args.recipients)
        t0 = time.perf_counter()
        plan = make_plan(release, ws, people)
        renderer = Renderer(ws, asset)
        prepared = {lang: prepare(renderer, ed, ws) for lang, ed in plan.editions.items()}
        size = 0
        for a in plan.assignments:
            size += len(builder.build(prepared[a.edition_lang], a.recipient).as_bytes())
        fast = time.perf_counter() - t0

        sample = synthetic(args.baseline)
        t0 = time.perf_counter()
        base_plan = make_plan(release, ws, sample)
        for a in base_plan.assignments:
            naive = Renderer(ws, asset)  # fresh: no environment or edition reuse
            one = prepare(naive, a.edition, ws)  # template engine + premailer per recipient
            builder.build(one, a.recipient).as_bytes()
        slow = time.perf_counter() - t0

    fast_rate = len(people) / fast
    slow_rate = len(sample) / slow
    print(f"recipients: {len(people)} in {len(plan.editions)} editions, "
          f"{size / len(people) / 1024:.1f} KiB per message")
    print(f"render once per edition : {fast_rate:10.0f} messages/s ({fast:.2f} s)")
    print(f"render per recipient    : {slow_rate:10.0f} messages/s "
          f"({slow:.2f} s for {len(sample)})")
    print(f"ratio                   : {fast_rate / slow_rate:10.1f} x")


if __name__ == "__main__":
    main()
