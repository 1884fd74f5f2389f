"""Speaker attribution: who each claim is attributed to, normalised as in GUIDELINES §4.

    from vistance.speakers import SpeakerAttributor

    attributor = SpeakerAttributor.fit(labelled_records)          # learns an alias table
    attributor.attribute(sentences, context=True)                 # [{"speaker", "speaker_span"}, ...]
    attributor.save(checkpoint_dir)                               # speakers.json

``python -m vistance.speakers evaluate FILES...`` measures it under grouped cross-validation.
"""

from .attributor import (
    SPEAKERS_FILE,
    SpeakerAttributor,
    normalize_speaker,
    own_attribution,
)
from .mentions import Mention, SentenceScan

__all__ = ["SPEAKERS_FILE", "Mention", "SentenceScan", "SpeakerAttributor", "normalize_speaker", "own_attribution"]
