from lab_helpers.batch.jobqueue import SEED, backend_options, cluster_kwargs, job_script


def test_seed_cluster_script_has_the_directives():
    script = job_script("sandbox", account="bbka-delta-gpu", **SEED)
    for line in [
        "#SBATCH -p gpuA40x4-interactive",
        "#SBATCH -A bbka-delta-gpu",
        "#SBATCH --cpus-per-task=1",
        "#SBATCH -t 00:30:00",
        "#SBATCH --gpus-per-node=1",
    ]:
        assert line in script
    assert "#SBATCH --mem=15G" in script  # 16 GB (decimal) is 14.9 GiB: dask-jobqueue rounds down
    assert "--resources GPU=1" in script
    assert "python -m distributed.cli.dask_worker tcp://127.0.0.1:" in script


def test_a_validated_job_becomes_cluster_arguments():
    kwargs = cluster_kwargs(
        dict(partition="gpuA40x4", account="bbka-delta-gpu", gpus_per_node=2, cpus=8, mem_gb=32, walltime="04:00:00")
    )
    assert kwargs["queue"] == "gpuA40x4" and kwargs["cores"] == 8 and kwargs["memory"] == "32GB"
    assert kwargs["job_extra_directives"] == ["--gpus-per-node=2"]
    script = job_script("sandbox", **kwargs)
    assert "#SBATCH --gpus-per-node=2" in script and "#SBATCH -t 04:00:00" in script


def test_live_backend_keeps_dask_jobqueue_defaults():
    assert backend_options("live") == {}
    assert backend_options("sandbox")["scheduler_options"] == {"host": "127.0.0.1"}
