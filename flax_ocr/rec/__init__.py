"""Recognition models, each stage chosen by name."""

from flax_ocr.rec.backbones import BACKBONES
from flax_ocr.rec.crnn import CRNN, FRAME_STRIDE, build_model, frames_for_width
from flax_ocr.rec.sequence import SEQUENCE_MODELS
