-- Reference data: the event categories every deployment starts with.
-- default_tier is the lowest tier that normally handles the category;
-- sla_minutes is that tier's deadline before automatic escalation.
INSERT INTO event_categories (code, name_zh, name_en, default_tier, priority, sla_minutes) VALUES
    ('fire_alarm',          '火情报警',     'Fire alarm',                'grid',     1,    30),
    ('gas_leak',            '燃气泄漏',     'Gas leak',                  'street',   1,    60),
    ('public_security',     '治安隐患',     'Public security risk',      'street',   2,   240),
    ('neighbour_dispute',   '邻里纠纷',     'Neighbour dispute',         'grid',     3,  1440),
    ('sanitation',          '环境卫生',     'Sanitation',                'grid',     3,  1440),
    ('illegal_parking',     '违章停车',     'Illegal parking',           'grid',     3,   240),
    ('illegal_construction','违法建设',     'Illegal construction',      'street',   2,  4320),
    ('road_damage',         '道路破损',     'Road damage',               'street',   3,  4320),
    ('manhole_cover',       '井盖缺失',     'Missing manhole cover',     'grid',     2,   240),
    ('street_light',        '路灯故障',     'Street light fault',        'grid',     4,  2880),
    ('water_supply',        '供水故障',     'Water supply fault',        'street',   2,   720),
    ('noise',               '噪音扰民',     'Noise nuisance',            'grid',     4,  1440),
    ('elderly_care',        '独居老人关怀', 'Elderly living alone',      'grid',     3,  1440),
    ('flood_risk',          '积水内涝',     'Flooding',                  'street',   1,   120),
    ('landslide_risk',      '地质灾害隐患', 'Landslide risk',            'district', 1,   240),
    ('food_safety',         '食品安全',     'Food safety',               'district', 2,  2880),
    ('street_vending',      '占道经营',     'Street vending',            'grid',     4,  1440),
    ('pipe_leak',           '管网漏损',     'Pipe leak',                 'street',   3,  2880),
    ('tree_hazard',         '树木倒伏',     'Fallen tree',               'grid',     3,   720),
    ('other',               '其他事项',     'Other',                     'grid',     4,  4320);
