{{ stg_liquidation_buckets('gate_liquidations') }}
