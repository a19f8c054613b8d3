"""MobileNetV3 as PaddleOCR's recognition-style variant (strides (2, 1) keep the width), the
backbone of PP-OCR's text-direction classifier (`small`, scale 0.35)."""

from __future__ import annotations

from flax import nnx

from flax_ocr.nn.layers import ConvNormAct, SqueezeExcite, max_pool

# kernel, expansion width, output width, squeeze-excite, activation, stride (height, width)
SMALL = (
    (3, 16, 16, True, "relu", (2, 1)),
    (3, 72, 24, False, "relu", (2, 1)),
    (3, 88, 24, False, "relu", (1, 1)),
    (5, 96, 40, True, "hardswish", (2, 1)),
    (5, 240, 40, True, "hardswish", (1, 1)),
    (5, 240, 40, True, "hardswish", (1, 1)),
    (5, 120, 48, True, "hardswish", (1, 1)),
    (5, 144, 48, True, "hardswish", (1, 1)),
    (5, 288, 96, True, "hardswish", (2, 1)),
    (5, 576, 96, True, "hardswish", (1, 1)),
    (5, 576, 96, True, "hardswish", (1, 1)),
)
SMALL_LAST = 576


def make_divisible(v: float, divisor: int = 8) -> int:
  """Paddle's channel rounding: the nearest multiple of `divisor`, never below 90% of v."""
  rounded = max(divisor, int(v + divisor / 2) // divisor * divisor)
  return rounded + divisor if rounded < 0.9 * v else rounded


class InvertedResidual(nnx.Module):
  """1x1 expand -> k x k depthwise -> optional squeeze-excite -> 1x1 project (+ input)."""

  def __init__(self, cin: int, mid: int, cout: int, kernel: int, stride, se: bool, act: str, *,
               rngs: nnx.Rngs):
    self.expand = ConvNormAct(cin, mid, bias=False, norm=True, act=act, rngs=rngs)
    self.depthwise = ConvNormAct(mid, mid, kernel, stride=stride, groups=mid, bias=False,
                                 norm=True, act=act, rngs=rngs)
    self.se = SqueezeExcite(mid, slope=0.2, rngs=rngs) if se else None
    self.project = ConvNormAct(mid, cout, bias=False, norm=True, rngs=rngs)
    self.residual = tuple(stride) == (1, 1) and cin == cout

  def __call__(self, x):
    y = self.depthwise(self.expand(x))
    if self.se is not None:
      y = self.se(y)
    y = self.project(y)
    return x + y if self.residual else y


class MobileNetV3(nnx.Module):
  """Images [B, H, W, 3] -> features [B, H / 32, W / 4, C] (the last 2x2 max pool included)."""

  def __init__(self, scale: float = 0.35, in_channels: int = 3, *, rngs: nnx.Rngs):
    cin = make_divisible(16 * scale)
    self.stem = ConvNormAct(in_channels, cin, 3, stride=2, bias=False, norm=True, act="hardswish",
                            rngs=rngs)
    units = []
    for kernel, exp, out, se, act, stride in SMALL:
      cout = make_divisible(scale * out)
      units.append(InvertedResidual(cin, make_divisible(scale * exp), cout, kernel, stride, se,
                                    act, rngs=rngs))
      cin = cout
    self.units = nnx.List(units)
    self.out_channels = make_divisible(scale * SMALL_LAST)
    self.last = ConvNormAct(cin, self.out_channels, bias=False, norm=True, act="hardswish",
                            rngs=rngs)

  def features(self, x):
    """[B, H, W, C] -> [B, H / 32, W / 2, C'], before the last pool."""
    x = self.stem(x)
    for unit in self.units:
      x = unit(x)
    return self.last(x)

  def __call__(self, x):
    return max_pool(self.features(x), (2, 2))
