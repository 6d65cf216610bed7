"""Every Zephyr ZMS reference case (vectors/zephyr-zms, copied to tests/data/zephyr-zms).

``reference`` and ``fixed`` cases must match field by field (ZMS-31); a ``quirk`` case is
the reference's defect: flashstack must differ from it somewhere and its ``fixed``
companion (same calls) is asserted in full by its own parameter.
"""

from __future__ import annotations

import hashlib

from .replay import replay


def test_zms_vector(vector_name, vectors):
    case = vectors.load(vector_name)
    failures, image = replay(case)
    if case["variant"] == "quirk":
        fixed = vector_name.replace("_quirk_", "_fixed_")
        assert fixed in vectors.names()
        assert len(vectors.load(fixed)["steps"]) == len(case["steps"])
        assert failures, f"{vector_name}: flashstack reproduced the reference defect"
        return
    assert not failures, "\n".join(failures)
    final = vectors.bin(case["final_image"])
    assert hashlib.sha256(image).hexdigest() == hashlib.sha256(final).hexdigest()
