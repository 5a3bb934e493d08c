{{ stg_liquidation_buckets('coinalyze_liquidation_fills') }}
