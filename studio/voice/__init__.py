"""Voice in the browser: record a turn, send it down a real AudioSocket line into a real call
bridge running the flow with its providers, and play the agent's reply.

``clip`` converts recordings (WAV ↔ 8 kHz slin, simulated speech); ``call`` runs the live
call on its own loop thread; ``providers`` builds the provider chain as the worker does;
``section`` is the Test call page's section that uses them.
"""

from studio.voice.call import VoiceCall, VoiceCallError, VoiceTurn
from studio.voice.clip import VoiceInputError, clip_from_wav, simulated_speech, wav_bytes

__all__ = [
    "VoiceCall",
    "VoiceCallError",
    "VoiceInputError",
    "VoiceTurn",
    "clip_from_wav",
    "simulated_speech",
    "wav_bytes",
]
