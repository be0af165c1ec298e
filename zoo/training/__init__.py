"""Training on a user's data.

``zoo.fine_tune`` (``finetune``) is split by job: ``settings`` (arguments, defaults, checks),
``run_folder`` (new, resumed or finished run directory; ``run.json``), ``head`` (the new head
and what phase 2 unfreezes), ``trainer`` (the two phases), ``cached_features`` (phase 1's
input computed once), ``resume`` (the checkpoint position every worker starts from, a
preemption's checkpoint), ``summary`` (the final report). Beneath it: ``fit_loop`` (the
replayable epoch and checkpoints), ``train_steps`` (one step, on one device or replicated),
``distribution`` (devices and machines), ``preemption`` (SIGTERM as a request to stop),
``augmentation``. Beside it: ``run_report`` (metrics, history, plots), ``probe``
(``zoo.probe``), ``tune`` (``zoo.tune``) over ``search_loop`` (keras-tuner's oracles).
"""
