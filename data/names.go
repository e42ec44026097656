package data

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/wangge/wangge/geo"
)

// Surnames, roughly by frequency in Chongqing (the head of the list is
// drawn more often), and given-name characters. All people are fake.
var (
	surnames = []string{"李", "王", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
		"何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹", "袁", "邓",
		"许", "傅", "沈", "曾", "彭", "吕", "苏", "卢", "蒋", "蔡", "贾", "丁", "魏", "薛", "叶", "阎", "余", "潘",
		"杜", "戴", "夏", "钟", "汪", "田", "任", "姜", "范", "方", "石", "姚", "谭", "廖", "邹", "熊", "金", "陆",
		"郝", "孔", "白", "崔", "康", "毛", "邱", "秦", "江", "史", "顾", "侯", "邵", "孟", "龙", "万", "段", "雷",
		"钱", "汤", "尹", "黎", "易", "常", "武", "乔", "贺", "赖", "龚", "文", "冉", "向", "税", "母"}
	givenMale   = []rune("伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林欢阳建国志文斌峰成东亮海德兵瑞昊天翔")
	givenFemale = []rune("芳娜敏静丽艳娟霞秀英慧莉婷雪琳晶燕玲桂萍红梅琴云洁颖倩丹蕾怡欣悦璐雅瑶佳薇蓉梦媛玉兰")
	roadHeads   = []string{"民生", "解放", "中山", "建设", "人民", "和平", "滨江", "学府", "龙湖", "嘉陵", "长江", "红旗",
		"新华", "文化", "育才", "科园", "金开", "石桥", "桂花", "黄桷", "朝天", "沙滨", "渝州", "松林", "青年", "杨柳",
		"天生", "双龙", "金紫", "南坪", "北城", "鹅岭", "两路", "银杏", "翠湖", "状元", "万寿", "长生", "凤鸣", "玉带"}
	roadTails = []string{"路", "路", "街", "大道", "巷", "支路", "一路", "二路", "东路", "西路", "南路", "北路"}
	estates   = []string{"花园", "小区", "家园", "苑", "新村", "公寓", "名都", "雅居", "华庭", "府"}
)

// personName draws a fake Chinese name.
func personName(rng *rand.Rand, male bool) string {
	// Squaring the uniform draw favours the common surnames.
	u := rng.Float64()
	sn := surnames[int(u*u*float64(len(surnames)))]
	pool := givenFemale
	if male {
		pool = givenMale
	}
	g := string(pool[rng.IntN(len(pool))])
	if rng.IntN(10) < 7 {
		g += string(pool[rng.IntN(len(pool))])
	}
	return sn + g
}

// idNumber builds an 18-character resident ID: the district code, the
// birth date, a sequence whose parity gives the gender, and the MOD 11-2
// check character.
func idNumber(rng *rand.Rand, district string, birth time.Time, male bool) string {
	seq := rng.IntN(500) * 2
	if male {
		seq++
	}
	s := fmt.Sprintf("%s%s%03d", district, birth.Format("20060102"), seq)
	return s + string(geo.IDCheckDigit(s))
}

// phone draws a mobile number 1[3-9]xxxxxxxxx.
func phone(rng *rand.Rand) string {
	return fmt.Sprintf("1%d%09d", 3+rng.IntN(7), rng.IntN(1_000_000_000))
}

// landline draws a Chongqing fixed-line number.
func landline(rng *rand.Rand) string {
	return fmt.Sprintf("023-%d%07d", 6+rng.IntN(3), rng.IntN(10_000_000))
}

func roadName(rng *rand.Rand) string {
	return roadHeads[rng.IntN(len(roadHeads))] + roadTails[rng.IntN(len(roadTails))]
}

// shortName drops the administrative suffix of a community or village.
func shortName(name string) string {
	for _, suf := range []string{"社区居民委员会", "居民委员会", "村民委员会", "委员会"} {
		if s, ok := strings.CutSuffix(name, suf); ok {
			return s
		}
	}
	return name
}
