"""Recognition models, each stage chosen by name."""

from flax_ocr.models.backbones import BACKBONES
from flax_ocr.models.crnn import CRNN, FRAME_STRIDE, build_model, frames_for_width
from flax_ocr.models.sequence import SEQUENCE_MODELS
