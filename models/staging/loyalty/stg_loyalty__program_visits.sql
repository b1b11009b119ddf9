{#- Program page visitors by day and channel: the valid raw rows (base_loyalty__program_visits). -#}
with valid_visits as (
    select * from {{ ref('base_loyalty__program_visits') }}
    where row_status = 'valid'
),

renamed as (
    select
        visit_date,
        channel,
        visitors
    from valid_visits
)

select * from renamed
