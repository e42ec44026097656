package data

// categoryWeight is the share of each category in a year of events
// (Chongqing-like: sanitation, parking and street vending dominate). A
// category the table lacks gets weight 1.
var categoryWeight = map[string]float64{
	"sanitation": 20, "illegal_parking": 13, "street_vending": 9, "neighbour_dispute": 8, "noise": 7,
	"street_light": 6, "elderly_care": 5, "other": 5.5, "road_damage": 4, "manhole_cover": 3,
	"illegal_construction": 3, "public_security": 2, "water_supply": 2, "pipe_leak": 2, "tree_hazard": 2,
	"flood_risk": 1.5, "food_safety": 1.5, "fire_alarm": 1, "gas_leak": 0.7, "landslide_risk": 0.5,
}

// details are the second half of a description, per category.
var details = map[string][]string{
	"fire_alarm":           {"烟感报警，疑似起火", "楼道内有烟雾", "电动车充电起火隐患"},
	"gas_leak":             {"闻到明显燃气味", "燃气管道接口漏气", "餐馆燃气报警"},
	"public_security":      {"夜间有可疑人员徘徊", "门禁损坏无人管理", "群租房安全隐患"},
	"neighbour_dispute":    {"楼上漏水引发纠纷", "公共区域堆放杂物引发争执", "停车位纠纷"},
	"sanitation":           {"垃圾桶满溢未清运", "路面有建筑垃圾", "绿化带内垃圾堆积", "污水外溢"},
	"illegal_parking":      {"车辆占用消防通道", "人行道违停", "小区出入口被堵"},
	"illegal_construction": {"楼顶加盖违章建筑", "擅自拆改承重墙", "占用绿地搭建"},
	"road_damage":          {"路面坑洼积水", "人行道地砖松动", "护栏损坏"},
	"manhole_cover":        {"井盖缺失", "井盖破损下沉", "雨水篦子丢失"},
	"street_light":         {"路灯不亮", "路灯白天常亮", "灯杆倾斜"},
	"water_supply":         {"整栋楼停水", "水压过低", "自来水浑浊"},
	"noise":                {"夜间施工噪音", "广场舞音响过大", "商铺外放音乐扰民"},
	"elderly_care":         {"独居老人多日未出门", "独居老人需要上门探访", "高龄老人行动不便求助"},
	"flood_risk":           {"下穿道积水", "雨后路面积水严重", "排水口堵塞"},
	"landslide_risk":       {"边坡出现裂缝", "挡墙鼓胀变形", "山体有落石"},
	"food_safety":          {"无证流动摊贩售卖熟食", "餐馆后厨卫生差", "学校周边售卖三无食品"},
	"street_vending":       {"占道摆摊", "店外经营占用人行道", "早市摊点占道"},
	"pipe_leak":            {"路面冒水", "管网漏损", "消火栓漏水"},
	"tree_hazard":          {"大风后树木倒伏", "枯树有倒伏风险", "树枝遮挡信号灯"},
	"other":                {"群众咨询求助", "公共设施损坏", "其他需协调事项"},
}

var satisfactionWeights = []float64{.03, .04, .10, .28, .55} // 1 … 5
