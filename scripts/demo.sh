#!/usr/bin/env bash
# The demo: audit the synthetic lending ecosystem in sample_data/ (installs what it needs into .venv).
source "$(dirname "$0")/_env.sh"
monoculture audit \
  sample_data/lender_a.csv sample_data/lender_b.csv sample_data/lender_c.parquet \
  sample_data/lender_d.csv.gz sample_data/lender_e.parquet \
  --id applicant_id --decision approved --label repaid --failure error \
  --group race --group sex "$@"
