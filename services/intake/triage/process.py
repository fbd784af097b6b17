"""Running the trainer as a child process (`python -m services.intake.triage train`) from the
serving process, so scikit-learn and SciPy never load there (issue 11's memory budget)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from services.intake.domain.errors import TrainingFailed

ROOT = Path(__file__).resolve().parents[3]


async def run_trainer(env: dict[str, str], timeout_s: float) -> dict[str, Any]:
    """The trainer's JSON result; `TrainingFailed` if it fails or outlasts `timeout_s`."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.intake.triage",
        "train",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **env},
        cwd=ROOT,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise TrainingFailed(f"training did not finish within {timeout_s:g}s") from None
    if proc.returncode != 0:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise TrainingFailed(f"the trainer failed ({proc.returncode}): {tail[0][:300]}")
    lines = out.decode("utf-8", "replace").strip().splitlines()
    result: dict[str, Any] = json.loads(lines[-1])
    return result
