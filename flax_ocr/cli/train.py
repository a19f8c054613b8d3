"""flax-ocr train (and `python train.py`): trains the model a config names (recognizer,
detector or direction classifier).

  flax-ocr train --config configs/crnn_lite.py --workdir runs/lite [--config.train.batch_size=64]

Multi-host: start one process per host with --coordinator_address HOST:PORT --num_processes N
--process_id I (or --distributed_auto on Cloud TPU / SLURM).
"""

import logging
import os
import sys
import threading

from absl import app, flags
from absl import logging as absl_logging
from ml_collections import config_flags

from flax_ocr.runtime import distributed
from flax_ocr.train.loop import TrainingStopped, train_and_evaluate

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Training config file.", lock_config=True)
flags.DEFINE_string("workdir", None, "Where checkpoints, TensorBoard logs and data go.")
flags.DEFINE_string("coordinator_address", None, "HOST:PORT of process 0 (multi-host runs).")
flags.DEFINE_integer("num_processes", None, "Processes in a multi-host run.")
flags.DEFINE_integer("process_id", None, "This process's index in a multi-host run.")
flags.DEFINE_bool("distributed_auto", False, "Let JAX detect the cluster (TPU pods, SLURM).")
flags.mark_flags_as_required(["config", "workdir"])


def quiet_thread_failures(args):
  """One log line, not a traceback, for an exception that ends a background thread (orbax's
  writers when the disk is full: the main thread reports what it means)."""
  logging.getLogger("flax_ocr").debug("background failure in %s: %s",
                                      getattr(args, "thread", None) or getattr(args, "object", "?"),
                                      str(args.exc_value).splitlines()[0][:200])


class WithoutTraceback(logging.Filter):
  """Library log records in one line: orbax logs a full traceback for each writer thread
  that fails (a full disk), and the main thread reports the failure itself."""

  def filter(self, record):
    record.exc_info, record.exc_text = None, None
    return True


def run(argv):
  del argv
  threading.excepthook = quiet_thread_failures
  sys.unraisablehook = quiet_thread_failures
  logging.getLogger("absl").addFilter(WithoutTraceback())
  absl_logging.set_verbosity(absl_logging.ERROR)  # orbax and tfds are chatty
  logging.getLogger("flax_ocr").setLevel(logging.INFO)
  distributed.initialize(FLAGS.coordinator_address, FLAGS.num_processes, FLAGS.process_id,
                         auto=FLAGS.distributed_auto)
  try:
    train_and_evaluate(FLAGS.config, FLAGS.workdir)
  except TrainingStopped as e:
    logging.getLogger("flax_ocr").error("%s", e)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    # Leave at once: after a failed write orbax's background threads would print tracebacks of
    # their closed event loop while the interpreter shuts down. Checkpoints are synchronous, so
    # nothing written is lost.
    os._exit(e.exit_code)  # pylint: disable=protected-access


def main(argv=None):
  """Parses absl / ml_collections flags (`--config FILE --config.x.y=...`) from argv and trains."""
  argv = sys.argv[1:] if argv is None else list(argv)
  app.run(run, argv=[sys.argv[0]] + argv)


if __name__ == "__main__":
  main()
