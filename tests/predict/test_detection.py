"""DB detection core: targets, loss and post-processing on a synthetic page with known boxes."""

import shutil

import cv2
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest
from flax import nnx

from configs import cls_direction, det_db_lite
from flax_ocr.data.augment import clutter
from flax_ocr.data.db_targets import db_targets
from flax_ocr.data.page_dataset import real_word_crops, renderer_options
from flax_ocr.data.pages import PageRenderer
from flax_ocr.data.render import LineRenderer, fonts_for
from flax_ocr.eval.metrics import detection_counts, detection_scores
from flax_ocr.io.geometry import keep_best, order_quad, polygon_iou
from flax_ocr.io.images import prepare_line
from flax_ocr.models.cls.classifier import DirectionClassifier, INPUT_HEIGHT, INPUT_WIDTH
from flax_ocr.models.det.dbnet import DBNet
from flax_ocr.nn.layers import without_mesh_axis
from flax_ocr.predict.crops import page_text, reading_order, rectify
from flax_ocr.predict.detector import TextDetector
from flax_ocr.predict.direction import DirectionPredictor
from flax_ocr.predict.postprocess import boxes_from_prob
from flax_ocr.train.db_loss import balanced_bce, db_loss
from flax_ocr.train.loop import train_and_evaluate
from tests.train.test_runs import assert_same_params, params_of

HEIGHT, WIDTH = 160, 320


def known_page():
  """Text-line quads at several sizes and angles, and one ignored (illegible) region."""
  boxes = [((60, 30), (90, 16), 0), ((200, 40), (150, 24), 0), ((120, 95), (200, 30), -8),
           ((250, 130), (90, 14), 12)]
  quads = [order_quad(cv2.boxPoints((center, size, angle))) for center, size, angle in boxes]
  ignored = order_quad(cv2.boxPoints(((40, 135), (50, 14), 0)))
  return quads, ignored


def test_targets_shrink_text_and_ramp_threshold_at_borders():
  quads, ignored = known_page()
  maps = db_targets(quads + [ignored], [False] * 4 + [True], HEIGHT, WIDTH)
  for quad in quads:
    center = np.round(quad.mean(0)).astype(int)
    assert maps["prob"][center[1], center[0]] == 1.0
    corner = np.round(quad[0]).astype(int)  # the border itself: outside the shrunk polygon
    assert maps["prob"][corner[1], corner[0]] == 0.0
    assert maps["thresh"][corner[1], corner[0]] > 0.65  # thresh_max on the border
  assert maps["prob"].sum() < sum(cv2.contourArea(q) for q in quads) * 0.6
  ignored_center = np.round(ignored.mean(0)).astype(int)
  assert maps["prob_mask"][ignored_center[1], ignored_center[0]] == 0.0
  assert maps["thresh"].min() == np.float32(0.3) and maps["thresh"].max() <= 0.7 + 1e-6
  assert maps["thresh_mask"].sum() > sum(cv2.contourArea(q) for q in quads)


def test_post_processing_recovers_each_known_box_once():
  quads, _ = known_page()
  maps = db_targets(quads, [False] * len(quads), HEIGHT, WIDTH)
  detected = boxes_from_prob(maps["prob"])
  assert len(detected) == len(quads)
  for quad in quads:
    ious = [polygon_iou(quad, box) for box, _ in detected]
    assert max(ious) >= 0.5, ious
    assert sorted(ious)[-2] < 0.1  # one box per line
  assert all(score > 0.99 for _, score in detected)


def test_post_processing_maps_boxes_to_image_scale_and_finds_nothing_in_blank_maps():
  quads, _ = known_page()
  maps = db_targets(quads, [False] * len(quads), HEIGHT, WIDTH)
  full = boxes_from_prob(maps["prob"])
  scaled = boxes_from_prob(maps["prob"], scale_x=2.0, scale_y=3.0)
  for (box, _), (big, _) in zip(full, scaled):
    np.testing.assert_allclose(big, box * [2.0, 3.0], atol=1e-3)
  assert not boxes_from_prob(np.zeros((HEIGHT, WIDTH), np.float32))
  assert not boxes_from_prob(np.full((HEIGHT, WIDTH), 0.5, np.float32))  # below box_thresh


def reference_balanced_bce(prob, gt, mask, ratio=3.0):
  """Plain per-image loop: all positives + the hardest negatives."""
  total, count = 0.0, 0.0
  for p, g, m in zip(prob, gt, mask):
    p, g, m = p.ravel().astype(np.float64), g.ravel(), m.ravel()
    loss = -(g * np.log(np.clip(p, 1e-6, 1)) + (1 - g) * np.log(np.clip(1 - p, 1e-6, 1)))
    positives = loss[(g == 1) & (m == 1)]
    negatives = np.sort(loss[(g == 0) & (m == 1)])[::-1]
    k = int(min(len(negatives), np.floor(len(positives) * ratio)))
    total += positives.sum() + negatives[:k].sum()
    count += len(positives) + k
  return total / (count + 1e-6)


def test_balanced_bce_matches_a_plain_reference():
  rng = np.random.default_rng(0)
  gt = (rng.random((3, 20, 30)) < 0.1).astype(np.float32)
  mask = (rng.random((3, 20, 30)) < 0.9).astype(np.float32)
  prob = rng.uniform(0.01, 0.99, (3, 20, 30)).astype(np.float32)
  ours = float(jax.jit(balanced_bce)(prob, gt, mask))
  np.testing.assert_allclose(ours, reference_balanced_bce(prob, gt, mask), rtol=1e-5)


def test_db_loss_is_lowest_for_the_target_maps_and_differentiable():
  quads, _ = known_page()
  maps = db_targets(quads, [False] * len(quads), HEIGHT, WIDTH)
  targets = {k: jnp.asarray(v)[None] for k, v in maps.items()}
  perfect = (jnp.clip(targets["prob"], 0.001, 0.999), targets["thresh"])
  rng = np.random.default_rng(0)
  noisy = (jnp.asarray(rng.uniform(0.01, 0.99, (1, HEIGHT, WIDTH)), jnp.float32),
           jnp.asarray(rng.uniform(0.3, 0.7, (1, HEIGHT, WIDTH)), jnp.float32))
  loss_perfect, parts = jax.jit(db_loss)(*perfect, targets)
  loss_noisy, _ = jax.jit(db_loss)(*noisy, targets)
  assert float(loss_perfect) < 0.1 < float(loss_noisy)
  assert float(parts["thresh_l1"]) < 1e-6
  grads = jax.grad(lambda p, t: db_loss(p, t, targets)[0], argnums=(0, 1))(*noisy)
  assert all(bool(jnp.isfinite(g).all()) and float(jnp.abs(g).sum()) > 0 for g in grads)


def test_dbnet_maps_have_the_image_size_and_learn_a_page():
  """A few steps on one synthetic page cut the DB loss by more than half."""


  quads, _ = known_page()
  maps = db_targets(quads, [False] * len(quads), HEIGHT, WIDTH)
  targets = {k: jnp.asarray(v)[None] for k, v in maps.items()}
  page = np.full((HEIGHT, WIDTH, 3), 0.8, np.float32)
  for quad in quads:
    cv2.fillPoly(page, [np.round(quad).astype(np.int32)], (-0.8, -0.8, -0.8))
  images = jnp.asarray(page)[None]

  model = DBNet(widths=(8, 16, 32, 64), inner=32, rngs=nnx.Rngs(0))
  without_mesh_axis(model)
  model.eval()
  prob, thresh = nnx.jit(lambda m: m(images))(model)
  assert prob.shape == thresh.shape == (1, HEIGHT, WIDTH)
  assert float(prob.min()) > 0 and float(prob.max()) < 1
  model.train()
  optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)

  @nnx.jit
  def step(model, optimizer):
    def loss_fn(model):
      return db_loss(*model(images), targets)[0]
    loss, grads = nnx.value_and_grad(loss_fn)(model)
    optimizer.update(model, grads)
    return loss

  losses = [float(step(model, optimizer)) for _ in range(40)]
  assert losses[-1] < 0.5 * losses[0], losses


def test_reading_order_is_lines_top_down_then_left_to_right():
  def box(x, y, w=40, h=12):
    return np.float32([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])
  quads = np.stack([box(100, 52), box(10, 50), box(10, 10), box(60, 12), box(10, 90)])
  assert reading_order(quads).tolist() == [2, 3, 1, 0, 4]
  assert reading_order(np.zeros((0, 4, 2))).tolist() == []
  assert page_text(quads, ["c", "b", "a", "ab", "d"]) == ["a ab", "b c", "d"]


def test_detection_counts_match_one_to_one_at_iou_half():
  def box(x, y, w=40, h=10):
    return np.float32([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])
  truth = [box(0, 0), box(0, 50), box(0, 100)]
  predicted = [box(2, 0), box(0, 0),  # two boxes on one line: only one may match
               box(0, 53),  # IoU 7/13 = 0.54: a match
               box(30, 100)]  # IoU 10/70: no match
  counts = detection_counts(predicted, truth)
  assert counts == {"matched": 2, "predicted": 4, "truth": 3}
  scores = detection_scores(counts)
  assert scores["precision"] == 0.5 and scores["recall"] == 2 / 3
  assert scores["hmean"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
  assert detection_scores(detection_counts([], []))["hmean"] == 0.0


def test_of_overlapping_boxes_the_best_scored_stays_in_place():
  def box(x, y, w=40, h=10):
    return np.float32([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])
  quads = [box(0, 0, 200, 40),  # a whole line, found at a smaller scale
           box(5, 5), box(60, 5),  # its words, found at full size
           box(0, 100), box(10, 102),  # one word found twice, 3/4 overlapping
           box(0, 200), box(30, 200)]  # neighbours touching over a quarter: both stay
  assert keep_best(quads, [0.9, 0.8, 0.85, 0.5, 0.6, 0.7, 0.7]) == [0, 4, 5, 6]
  assert keep_best(quads, [0.5, 0.8, 0.95, 0.6, 0.5, 0.7, 0.7]) == [1, 2, 3, 5, 6]
  assert keep_best([], []) == []


def test_rectify_undoes_a_rotation_and_turns_vertical_crops():
  image = np.zeros((200, 200), np.uint8)
  quad = order_quad(cv2.boxPoints(((100, 100), (120, 30), 20)))
  cv2.fillPoly(image, [np.round(quad).astype(np.int32)], 255)
  crop = rectify(image, quad)
  assert abs(crop.shape[1] - 120) <= 2 and abs(crop.shape[0] - 30) <= 2
  assert crop[3:-3, 3:-3].min() > 200  # the whole rectangle, upright
  tall = rectify(image, np.float32([[90, 40], [110, 40], [110, 160], [90, 160]]))
  assert tall.shape[1] > tall.shape[0]


def test_direction_classifier_learns_flipped_crops():
  """Rendered lines and the same lines turned 180 degrees: the classifier fits them."""


  renderer = LineRenderer(fonts_for("train"), seed=5, distortions=False)
  lines = [renderer.sample(i)[0] for i in range(24)]
  images = jnp.asarray(np.stack(
      [prepare_line(im, INPUT_HEIGHT, (INPUT_WIDTH,))[0] for im in lines] +
      [prepare_line(np.rot90(im, 2), INPUT_HEIGHT, (INPUT_WIDTH,))[0] for im in lines]))
  labels = jnp.asarray([0] * len(lines) + [1] * len(lines))
  model = DirectionClassifier(widths=(8, 16, 32, 64), rngs=nnx.Rngs(0))
  without_mesh_axis(model)
  optimizer = nnx.Optimizer(model, optax.adam(3e-3), wrt=nnx.Param)

  @nnx.jit
  def step(model, optimizer):
    def loss_fn(model):
      return optax.softmax_cross_entropy_with_integer_labels(model(images), labels).mean()
    loss, grads = nnx.value_and_grad(loss_fn)(model)
    optimizer.update(model, grads)
    return loss

  for _ in range(60):
    step(model, optimizer)
  logits = nnx.jit(lambda m: m(images))(model)  # train mode: batch statistics
  assert logits.shape == (48, 2)
  accuracy = float((logits.argmax(-1) == labels).mean())
  assert accuracy == 1.0, accuracy


@pytest.mark.timeout(600)
def test_trainer_runs_detection_and_direction_tasks_data_parallel(tmp_path):
  """The one trainer, on 4 fake devices, for the two new tasks: pages built and cropped,
  the DB and direction objectives, their evaluations, exact resumption, checkpoints the
  inference classes load."""

  det = det_db_lite.get_config()
  det.model.widths, det.model.inner = (8, 8, 16, 16), 16
  det.data.crop = 96
  det.data.train.update({"count": 12, "size": 128})
  det.data.eval.update({"count": 3, "size": 128})
  cls = cls_direction.get_config()
  cls.model.widths = (4, 8, 8, 8)
  cls.data.train.update({"render_count": 64})
  cls.data.eval.update({"render_count": 8})
  for config in (det, cls):
    config.train.update({"batch_size": 2, "num_steps": 6, "warmup_steps": 1, "log_every": 3,
                         "eval_every": 6, "checkpoint_every": 3, "parallel": "shard_map"})
  det_metrics = train_and_evaluate(det, tmp_path / "det")
  assert set(det_metrics) == {"precision", "recall", "hmean", "train_loss"}
  assert np.isfinite(det_metrics["train_loss"])
  assert list((tmp_path / "det" / "data").glob("train_12x128_*/pages.npy"))
  # Resumed from step 3 of the same run, it ends where the straight run ended.
  shutil.copytree(tmp_path / "det", tmp_path / "resumed")
  for later in ("checkpoints/6", "best"):
    shutil.rmtree(tmp_path / "resumed" / later)
  train_and_evaluate(det, tmp_path / "resumed")
  assert_same_params(params_of(tmp_path / "resumed"), params_of(tmp_path / "det"), atol=1e-6)
  page = np.zeros((100, 150, 3), np.uint8)
  assert isinstance(TextDetector(tmp_path / "det").detect(page), list)
  cls_metrics = train_and_evaluate(cls, tmp_path / "cls")
  assert 0.0 <= cls_metrics["accuracy"] <= 1.0
  angle, confidence = DirectionPredictor(tmp_path / "cls").classify([page[:, :, 0]])[0]
  assert angle in (0, 180) and 0.5 <= confidence <= 1.0


def test_scene_pages_hold_small_text_and_textless_clutter():
  """Scene pages: every kind of clutter draws a real pattern; the pages keep their quads on
  drawn text (ink inside each quad), include text under 14 px, and differ from the page style."""

  masks = [clutter(np.random.default_rng(seed), 120, 160) for seed in range(40)]
  assert all(m.shape == (120, 160) and 0.02 < m.mean() < 0.9 for m in masks)
  renderer = PageRenderer(fonts_for("train"), seed=3, height=384, width=384, style="scenes")
  heights = []
  for index in range(12):
    page, quads = renderer.sample(index)
    assert page.shape == (384, 384, 3) and page.dtype == np.uint8
    for quad in quads:
      heights.append(np.linalg.norm(quad[3] - quad[0]))
      inside = np.zeros(page.shape[:2], np.uint8)
      cv2.fillPoly(inside, [np.round(quad).astype(np.int32)], 1)
      assert page[inside > 0].std() > 3  # text, not a flat patch
  assert min(heights) < 14 and len(heights) >= 24
  plain = PageRenderer(fonts_for("train"), seed=3, height=384, width=384).sample(0)[0]
  assert not np.array_equal(plain, renderer.sample(0)[0])
  with pytest.raises(ValueError, match="page style"):
    PageRenderer(fonts_for("train"), style="poster")


def test_real_word_crops_are_pasted_as_text_and_held_out_crops_never(tmp_path):

  lines = []
  for i in range(40):
    crop = np.zeros((30, 90, 3), np.uint8)
    crop[..., 2] = 255  # pure red: nothing else on a page is
    cv2.imwrite(str(tmp_path / f"w{i}.png"), crop)
    lines.append(f"w{i}.png\tword{i}")
  (tmp_path / "labels.tsv").write_text("\n".join(lines) + "\n")
  kept = real_word_crops([str(tmp_path / "labels.tsv")], heldout_every=5)
  every = real_word_crops([str(tmp_path / "labels.tsv")], heldout_every=0)
  assert 20 <= len(kept) < len(every) == 40 and set(kept) < set(every)

  renderer = PageRenderer(fonts_for("train"), seed=1, height=384, width=384,
                          real_words=kept, max_real_words=6)
  red_quads = 0
  for index in range(6):
    page, quads = renderer.sample(index)
    for quad in quads:
      inside = np.zeros(page.shape[:2], np.uint8)
      cv2.fillPoly(inside, [np.round(quad).astype(np.int32)], 1)
      pixels = page[inside > 0].astype(int)
      red_quads += np.mean((pixels[:, 2] > 150) & (pixels[:, :2].max(1) < 100)) > 0.6
  assert red_quads >= 6


def test_pasted_edges_fade_in_when_feathered(tmp_path):


  crop = np.zeros((40, 120, 3), np.uint8)
  crop[..., 2] = 255
  cv2.imwrite(str(tmp_path / "red.png"), crop)
  (tmp_path / "labels.tsv").write_text("red.png\tred\n")

  def redness(feather):
    renderer = PageRenderer(fonts_for("train"), seed=2, height=384, width=384, max_lines=1,
                            real_words=(str(tmp_path / "red.png"),), blanks=False,
                            feather=feather)
    ring, centre = [], []
    for index in range(8):
      page, quads = renderer.sample(index)
      red = (page[..., 2].astype(int) - page[..., :2].max(-1)) > 100
      for quad in quads:
        (left, top), (right, bottom) = quad.min(0).astype(int), quad.max(0).astype(int)
        if red[top:bottom, left:right].mean() > 0.2:  # the red paste, not a rendered line
          ring.append(red[top:top + 2, left:right].mean())
          centre.append(red[(top + bottom) // 2, left + 8:right - 8].mean())
    return np.mean(ring), np.mean(centre), len(ring)

  sharp, feathered = redness(0.0), redness(0.4)
  assert sharp[2] == feathered[2] >= 3  # the same pastes in the same places
  assert sharp[0] > 0.4 and feathered[0] < 0.2  # measured 0.56 and 0.08: the edges fade
  assert min(sharp[1], feathered[1]) > 0.9  # the middle stays the crop

  spec = ml_collections.ConfigDict({"real_words": (str(tmp_path / "labels.tsv"),)})
  assert renderer_options(ml_collections.ConfigDict()) == {}  # plain pages keep their name
  assert renderer_options(spec) == {"real_words": (str((tmp_path / "red.png").absolute()),)}
