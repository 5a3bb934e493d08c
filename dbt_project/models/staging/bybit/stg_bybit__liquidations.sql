{{ stg_liquidation_events('bybit_liquidations') }}
