"""The shared corpus of real mail, found relative to the repository only: `../shared/corpus` beside its folder.

That is where CI and the workplace lay it out. When it is absent the tests that read it are skipped, saying so;
no path of one machine is ever tried.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
CORPUS = REPOSITORY.parent / "shared" / "corpus"
TNEF_DIR = CORPUS / "mimekit" / "tnef"

needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(),
    reason=f"the shared mail corpus is not beside the repository (../shared/corpus from {REPOSITORY.name}/)",
)
