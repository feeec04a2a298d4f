"""Lab 02: Delta as data, batch jobs (validation, SU cost, sbatch, dask-jobqueue), a queue
simulation with EASY backfill, and Amdahl's law."""
