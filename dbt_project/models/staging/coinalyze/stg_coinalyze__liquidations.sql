{{ stg_liquidation_buckets('coinalyze_liquidations') }}
