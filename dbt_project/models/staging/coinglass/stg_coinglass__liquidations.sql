{{ stg_liquidation_buckets('coinglass_liquidations') }}
