"""Trains a recognizer.

  python train.py --config configs/crnn_lite.py --workdir runs/lite [--config.train.batch_size=64]

Multi-host: start one process per host with --coordinator_address HOST:PORT --num_processes N
--process_id I (or --distributed_auto on Cloud TPU / SLURM).
"""

import logging

from absl import app, flags
from absl import logging as absl_logging
from ml_collections import config_flags

from flax_ocr import distributed

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Training config file.", lock_config=True)
flags.DEFINE_string("workdir", None, "Where checkpoints, TensorBoard logs and data go.")
flags.DEFINE_string("coordinator_address", None, "HOST:PORT of process 0 (multi-host runs).")
flags.DEFINE_integer("num_processes", None, "Processes in a multi-host run.")
flags.DEFINE_integer("process_id", None, "This process's index in a multi-host run.")
flags.DEFINE_bool("distributed_auto", False, "Let JAX detect the cluster (TPU pods, SLURM).")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
  del argv
  absl_logging.set_verbosity(absl_logging.ERROR)  # orbax and tfds are chatty
  logging.getLogger("flax_ocr").setLevel(logging.INFO)
  distributed.initialize(FLAGS.coordinator_address, FLAGS.num_processes, FLAGS.process_id,
                         auto=FLAGS.distributed_auto)
  from flax_ocr.train.loop import train_and_evaluate  # pylint: disable=import-outside-toplevel
  train_and_evaluate(FLAGS.config, FLAGS.workdir)


if __name__ == "__main__":
  app.run(main)
