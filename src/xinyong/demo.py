"""Realistic demo data for a city platform (南京市): departments, accounts, subjects and records.

Everything goes through the contexts' service functions (registry, record submission with
catalogue validation, audit), exactly as a real department's data would: nothing is written to
a table directly. The generator is reproducible for a given ``seed`` and day (dates are relative
to ``clock.today()``); departments, institutions and accounts are fixed and created only once,
so calling it again on the same database re-sends the same facts, which the record store
recognises as duplicates.

A handful of registry problems are planted on purpose so that the conflict list is not empty:
重复赋码 (the same name in the same district under two codes) and 一码多赋 (a second department
reporting a known code under another name).
"""

from __future__ import annotations

import hashlib
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from stdnum.cn import ric

from xinyong import clock
from xinyong.access import service as access
from xinyong.access.models import Department, Institution, User
from xinyong.actor import Actor
from xinyong.catalogue import service as catalogue
from xinyong.config import get_settings
from xinyong.errors import DomainError
from xinyong.records import service as records
from xinyong.records.schemas import SubjectRef
from xinyong.subjects import service as registry
from xinyong.subjects import uscc
from xinyong.subjects.schemas import OrganisationIn

T = TypeVar("T")

DEMO_PASSWORD = "Xinyong2026"
CITY_CODE = "320100"
CITY = "南京市"
CHUNK = 500

DEMO_ACCOUNTS: list[dict[str, str]] = [
    {"username": "admin", "password": DEMO_PASSWORD, "role": "authority_admin",
     "display_name": "市发展改革委信用处管理员",
     "description": "信用主管部门：维护目录、政策参数和账号，处理重复赋码、一码多赋等主体冲突"},
    {"username": "scjg", "password": DEMO_PASSWORD, "role": "department_submitter",
     "display_name": "市市场监管局数据报送员",
     "description": "数据提供部门（南京市市场监督管理局）：报送登记注册、行政许可、行政处罚、经营异常名录等信息"},
    {"username": "swj", "password": DEMO_PASSWORD, "role": "department_submitter",
     "display_name": "市税务局数据报送员",
     "description": "数据提供部门（国家税务总局南京市税务局）：报送纳税信用等级、税务行政处罚、重大税收违法失信主体等信息"},
    {"username": "ggzy", "password": DEMO_PASSWORD, "role": "applying_department",
     "display_name": "市公共资源交易中心经办人",
     "description": "应用部门（南京市公共资源交易中心）：招标投标前开展信用核查，查看共享信用信息"},
    {"username": "qiye", "password": DEMO_PASSWORD, "role": "subject_user",
     "display_name": "南京钟山智造科技有限公司",
     "description": "信用主体（企业）：查看本企业全部信用记录，下载信用报告，申请信用修复、提出异议"},
    {"username": "yinhang", "password": DEMO_PASSWORD, "role": "authorised_institution",
     "display_name": "金陵商业银行普惠金融部",
     "description": "授权机构（银行，信易贷）：经主体授权后，在授权范围内查询非公开信用信息"},
    {"username": "yunying", "password": DEMO_PASSWORD, "role": "authorised_institution",
     "display_name": "金陵征信数据产品部",
     "description": "授权机构（授权运营机构）：按授权运营协议获取汇总数据产品，小单元格已抑制（/institution/operation）"},
    {"username": "shenji", "password": DEMO_PASSWORD, "role": "auditor",
     "display_name": "安全审计员",
     "description": "安全审计员：查看并校验防篡改的审计日志"},
]


@dataclass(frozen=True)
class DepartmentSpec:
    sector: str
    name: str
    short_name: str
    submitter: str  # username of the department's data-submitting account
    category: str = "11"  # 机关; the trading centre is a 事业单位 (12)
    applies: bool = False


DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    DepartmentSpec("市场监管", "南京市市场监督管理局", "市场监管局", "scjg"),
    DepartmentSpec("税务", "国家税务总局南京市税务局", "税务局", "swj"),
    DepartmentSpec("法院", "南京市中级人民法院", "中级法院", "fy"),
    DepartmentSpec("生态环境", "南京市生态环境局", "生态环境局", "sthj"),
    DepartmentSpec("住建", "南京市城乡建设委员会", "城乡建设委", "jw"),
    DepartmentSpec("人力资源社会保障", "南京市人力资源和社会保障局", "人社局", "rsj"),
    DepartmentSpec("交通运输", "南京市交通运输局", "交通运输局", "jtj"),
    DepartmentSpec("应急管理", "南京市应急管理局", "应急管理局", "yjj"),
    DepartmentSpec("财政", "南京市财政局", "财政局", "czj"),
    DepartmentSpec("公共资源交易", "南京市公共资源交易中心", "公共资源交易中心", "ggzy_bs", category="12",
                   applies=True),
    DepartmentSpec("发展改革", "南京市发展和改革委员会", "发展改革委", "fgw", applies=True),
    DepartmentSpec("知识产权", "南京市知识产权局", "知识产权局", "zscq"),
)

BANK_NAME = "金陵商业银行股份有限公司"
OPERATOR_NAME = "南京金陵征信服务有限公司"
SHOWCASE_NAME = "南京钟山智造科技有限公司"


@dataclass(frozen=True)
class District:
    code: str
    name: str
    abbr: str  # in document numbers: 宁玄市监处罚〔2025〕123号
    roads: tuple[str, ...]
    places: tuple[str, ...]  # streets, towns and villages
    weight: int  # share of the city's market subjects
    rural: bool = False


DISTRICTS: tuple[District, ...] = (
    District("320102", "玄武区", "玄", ("中山路", "北京东路", "珠江路", "龙蟠路", "太平北路", "玄武大道", "长江路"),
             ("新街口", "梅园新村", "玄武门", "锁金村", "孝陵卫", "红山", "玄武湖"), 9),
    District("320104", "秦淮区", "秦", ("中华路", "太平南路", "集庆路", "建康路", "御道街", "中山南路", "应天大街"),
             ("夫子庙", "双塘", "中华门", "月牙湖", "光华路", "秦虹", "红花"), 9),
    District("320105", "建邺区", "建", ("江东中路", "河西大街", "庐山路", "嘉陵江东街", "奥体大街", "乐山路"),
             ("沙洲", "南苑", "兴隆", "莫愁湖", "双闸", "江心洲"), 10),
    District("320106", "鼓楼区", "鼓", ("中山北路", "湖南路", "汉中路", "广州路", "草场门大街", "虎踞路", "模范马路"),
             ("宁海路", "华侨路", "湖南路", "挹江门", "热河南路", "幕府山", "江东"), 11),
    District("320111", "浦口区", "浦", ("浦珠路", "文德路", "永锦路", "浦滨路", "江浦街道象贤路", "星火路"),
             ("江浦", "桥林", "汤泉", "星甸", "永宁", "顶山", "珠江"), 7, rural=True),
    District("320113", "栖霞区", "栖", ("仙林大道", "和燕路", "尧化街", "学津路", "马群街", "文苑路"),
             ("仙林", "尧化", "马群", "迈皋桥", "燕子矶", "八卦洲", "龙潭"), 9, rural=True),
    District("320114", "雨花台区", "雨", ("软件大道", "宁双路", "雨花西路", "安德门大街", "凤信路", "玉兰路"),
             ("赛虹桥", "铁心桥", "西善桥", "板桥", "古雄", "梅山"), 8),
    District("320115", "江宁区", "江", ("双龙大道", "天元中路", "胜太路", "诚信大道", "将军大道", "秣周东路"),
             ("东山", "秣陵", "汤山", "淳化", "湖熟", "禄口", "谷里", "横溪", "江宁", "麒麟"), 16, rural=True),
    District("320116", "六合区", "六", ("雄州南路", "延安北路", "龙津路", "园林西路", "大厂街道新华路"),
             ("雄州", "龙池", "冶山", "竹镇", "马鞍", "程桥", "金牛湖", "横梁"), 6, rural=True),
    District("320117", "溧水区", "溧", ("秦淮大道", "珍珠南路", "天生桥大道", "致远路", "中山东路"),
             ("永阳", "白马", "东屏", "石湫", "洪蓝", "晶桥", "和凤"), 5, rural=True),
    District("320118", "高淳区", "高", ("宝塔路", "芜太路", "丹阳湖北路", "石臼湖南路", "淳兴路"),
             ("淳溪", "古柏", "阳江", "砖墙", "漆桥", "东坝", "桠溪"), 4, rural=True),
)

# Former division codes, valid for people born before the district was created (GB/T 2260).
HISTORIC_CODES: dict[str, tuple[str, ...]] = {
    "320115": ("320121",), "320116": ("320123", "320112"), "320117": ("320124",), "320118": ("320125",),
    "320111": ("320122",), "320104": ("320103",), "320106": ("320107",),
}

# --- name pools -------------------------------------------------------------------------------------

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
            "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤")
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官")
GIVEN_MALE = "伟强磊军勇杰涛明超斌浩鹏华建国平刚峰辉文俊宇晨凯志海东林波新亮飞成龙鑫宁旭立荣春永德"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀玲婷燕雪琳丹萍红梅颖倩蕾月莉慧佳欣怡晶璐媛琴兰洁凤"
ZIHAO_FIRST = "金银华恒鑫宏博瑞嘉德盛天中润锦永诚联新海东明凯安泰和信远星宝富龙聚优同君弘卓众世启开晨源鼎广长昌兴隆达通顺祥福万佳美雅智航腾正"
ZIHAO_SECOND = "盛达源通泰丰华瑞科创诚信和安宇鑫发隆顺辉昌兴祥茂晟越恒远航业成邦润胜泽峰岳璟骏"
FAMOUS_ZIHAO = frozenset({"华润", "万科", "顺丰", "中信", "中通", "万达", "恒瑞", "海信", "华泰", "广发", "兴业", "中泰",
                          "德邦", "中航", "东航", "海航", "新华", "安邦", "平安", "中兴", "天瑞", "长安", "美华"})
ZIHAO_LOCAL = ("紫金", "钟山", "金陵", "秦淮", "石城", "栖霞", "雨花", "玄武", "莫愁", "清凉", "仙林", "江北",
               "汤山", "牛首", "燕矶", "白鹭", "凤凰", "长干")

INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "A": ("农业科技", "生态农业", "农业发展", "园艺"),
    "C": ("机械制造", "电子科技", "新材料科技", "精密机械", "汽车零部件", "食品", "服饰", "医疗器械", "化工",
          "包装材料", "智能装备", "光电科技"),
    "D": ("新能源科技", "燃气", "电力工程"),
    "E": ("建设工程", "建筑安装工程", "装饰工程", "市政工程", "园林绿化工程", "钢结构工程"),
    "F": ("商贸", "贸易", "医药连锁", "建材", "五金机电", "食品贸易", "化工贸易", "汽车销售服务"),
    "G": ("物流", "运输", "供应链管理", "货运代理", "仓储服务"),
    "H": ("餐饮管理", "酒店管理", "餐饮", "食品配送"),
    "I": ("信息技术", "软件技术", "网络科技", "数据科技", "智能科技", "通信技术"),
    "K": ("房地产开发", "物业管理", "置业"),
    "L": ("企业管理咨询", "人力资源", "广告", "会展服务", "商务信息咨询", "文化传媒"),
    "M": ("检测技术", "环保科技", "工程设计", "生物科技", "工程咨询", "测绘技术"),
    "N": ("环境工程", "水务工程", "保洁服务"),
    "O": ("家政服务", "汽车维修", "美容美发", "洗涤服务"),
    "P": ("教育科技", "职业技能培训"),
    "Q": ("健康管理", "医疗管理", "养老服务"),
    "R": ("文化传播", "体育发展", "影视传媒"),
}
ENTERPRISE_INDUSTRY_WEIGHTS = {"F": 22, "C": 15, "I": 12, "L": 10, "E": 8, "M": 7, "G": 6, "H": 5, "K": 3, "O": 3,
                               "A": 2, "N": 2, "R": 2, "Q": 1, "P": 1, "D": 1}
SCOPES: dict[str, str] = {
    "A": "农作物、花卉、苗木种植；农业技术开发、技术咨询；农产品销售",
    "C": "通用设备、电子产品、金属制品的研发、制造、销售；技术服务；货物进出口",
    "D": "太阳能发电技术服务；合同能源管理；燃气经营；电力设施安装、维修",
    "E": "房屋建筑工程、市政公用工程、建筑装修装饰工程施工；园林绿化工程施工",
    "F": "日用百货、五金交电、建筑材料、电子产品、预包装食品销售；货物进出口",
    "G": "道路普通货物运输；国内货物运输代理；普通货物仓储服务；供应链管理服务",
    "H": "餐饮服务；餐饮管理；食品销售；酒店管理",
    "I": "软件开发；信息系统集成服务；信息技术咨询服务；数据处理和存储支持服务；网络技术服务",
    "K": "房地产开发经营；物业管理；房地产经纪；非居住房地产租赁",
    "L": "企业管理咨询；人力资源服务；广告设计、代理、发布；会议及展览服务",
    "M": "检验检测服务；工程技术服务；环保咨询服务；技术开发、技术转让",
    "N": "环境保护专用设备销售；污水处理及其再生利用；城市生活垃圾经营性服务；保洁服务",
    "O": "家政服务；机动车修理和维护；理发及美容服务；洗染服务",
    "P": "教育咨询服务；职业技能培训（不含需取得许可的培训）",
    "Q": "健康咨询服务；养老服务；护理机构服务",
    "R": "组织文化艺术交流活动；体育赛事策划；影视节目制作",
}
SHOPS: dict[str, tuple[str, ...]] = {
    "H": ("小吃店", "面馆", "烧烤店", "饭店", "快餐店", "鸭血粉丝汤店", "早餐店", "盐水鸭店"),
    "F": ("便利店", "水果店", "日用百货店", "五金店", "烟酒店", "副食品店", "服装店", "手机店"),
    "O": ("理发店", "家电维修部", "干洗店", "汽车修理店", "美容店"),
}
SHOP_INDUSTRY_WEIGHTS = {"H": 45, "F": 40, "O": 15}
CROPS = ("草莓种植", "西瓜种植", "茶叶", "雨花茶", "水稻种植", "蔬菜种植", "螃蟹养殖", "青虾养殖", "苗木",
         "葡萄种植", "蓝莓种植", "食用菌种植", "家禽养殖", "农机服务", "桃子种植", "莲藕种植")
VILLAGES = ("石塘", "黄龙岘", "大塘金", "观音殿", "徐家院", "朱门", "李巷", "杨柳", "前庄", "后窑", "王家",
            "陈村", "新桥", "双塘", "龙井", "西岗", "东山", "小丹阳")
ASSOCIATION_FIELDS = ("餐饮行业", "软件行业", "物流", "建筑业", "房地产业", "个体劳动者", "快递", "家政服务业",
                      "美容美发", "汽车维修行业", "电子商务", "广告", "信用服务", "安全生产", "质量", "消费者权益保护")
SOCIETY_FIELDS = ("土木建筑", "计算机", "营养", "心理", "环境科学", "中医药", "档案", "统计")
CHAMBERS = ("温州", "福建", "安徽", "浙江", "湖南", "河南", "江西", "山东")
PRIVATE_NONPROFIT = (("幼儿园", "P"), ("培训中心", "P"), ("养老服务中心", "Q"), ("社会工作服务中心", "S"),
                     ("康复中心", "Q"), ("艺术培训学校", "P"))
PUBLIC_INSTITUTIONS = (("社区卫生服务中心", "Q"), ("小学", "P"), ("中学", "P"), ("幼儿园", "P"), ("文化馆", "R"),
                       ("图书馆", "R"), ("环境卫生管理所", "N"), ("农业技术推广中心", "A"), ("检验检测中心", "M"))

KIND_SHARES = (("enterprise", 70), ("individual_business", 14), ("natural_person", 8), ("cooperative", 3),
               ("social_org", 3), ("public_institution", 2))
KIND_CATEGORY = {"enterprise": "1", "individual_business": "2", "cooperative": "3"}

# --- penalty templates per sector: 违法行为类型, 违法事实, 处罚依据, fine range (万元), confiscation ---------

FOODS = ("散装熟食", "糕点", "鲜鸡蛋", "豆芽", "韭菜", "猪肉", "小龙虾", "桶装饮用水", "散装白酒", "腌制蔬菜")
FOOD_TESTS = ("菌落总数", "大肠菌群", "二氧化硫残留量", "腐霉利", "恩诺沙星", "铅（以Pb计）", "过氧化值",
              "苯甲酸及其钠盐", "铜绿假单胞菌", "4-氯苯氧乙酸钠")
CLAIMS = ("全网销量第一", "国家级产品", "根治失眠", "零风险高回报", "100%有效", "最高级技术")
EQUIPMENT = ("电梯", "叉车", "压力容器", "起重机", "锅炉")
PRODUCTS = ("电线电缆", "插座", "儿童服装", "塑料购物袋", "电动自行车充电器", "建筑用钢筋")
POLLUTANTS = (("颗粒物", 20), ("二氧化硫", 50), ("氮氧化物", 100), ("非甲烷总烃", 60))
WASTES = ("废矿物油", "废油漆桶", "废活性炭", "含油抹布", "废切削液")
PROJECTS = ("住宅小区", "产业园标准厂房", "安置房", "商业综合体", "中小学改扩建", "老旧小区改造")


@dataclass(frozen=True)
class PenaltyTemplate:
    sector: str
    behaviour: str
    facts: str
    basis: str
    fine: tuple[float, float]
    confiscate: bool = False
    kinds: str = "AE"  # which kinds of subject: A enterprise, E individual business, P natural person
    industries: str = ""  # empty: any industry
    amount_per_fine: tuple[float, float] = (0.5, 3.0)  # the facts' amount (e.g. tax evaded) relative to the fine


PENALTIES: tuple[PenaltyTemplate, ...] = (
    PenaltyTemplate("市场监管", "销售不符合食品安全标准的食品",
                    "{d}，执法人员对当事人经营场所进行监督抽检，当事人销售的{food}经检验，{test}项目不符合食品安全"
                    "国家标准，检验结论为不合格。当事人不能提供供货者的许可证和食品出厂检验合格证明。",
                    "《中华人民共和国食品安全法》第一百二十四条第一款第（一）项", (0.5, 10), True, "AE", "HF"),
    PenaltyTemplate("市场监管", "未按规定履行进货查验义务",
                    "{d}，执法人员检查发现当事人采购的{food}未查验供货者的许可证和产品合格证明文件，"
                    "未建立食品进货查验记录。",
                    "《中华人民共和国食品安全法》第一百二十六条第一款第（三）项", (0.5, 3), False, "AE", "HF"),
    PenaltyTemplate("市场监管", "发布虚假广告",
                    "当事人在其微信公众号、网店页面发布的广告中宣传“{claim}”等内容，经查当事人无法提供相关证明材料，"
                    "广告内容与实际情况不符，欺骗、误导消费者。",
                    "《中华人民共和国广告法》第五十五条第一款", (1, 20), False, "AE", ""),
    PenaltyTemplate("市场监管", "使用未经定期检验的特种设备",
                    "{d}，执法人员检查发现当事人使用的{n}台{equipment}已超过定期检验有效期，未按规定申报检验即继续使用。",
                    "《中华人民共和国特种设备安全法》第八十四条第（一）项", (3, 30), False, "A", "CFGHK"),
    PenaltyTemplate("市场监管", "不按规定明码标价",
                    "{d}，执法人员检查发现当事人在经营场所销售的{n}种商品未按规定明码标价。",
                    "《中华人民共和国价格法》第四十二条", (0.1, 0.5), False, "AE", "FHO"),
    PenaltyTemplate("市场监管", "销售侵犯注册商标专用权的商品",
                    "当事人销售的{n}件标有他人注册商标的{product}，经商标注册人鉴定为侵犯注册商标专用权的商品，"
                    "违法经营额{amount}元。",
                    "《中华人民共和国商标法》第六十条第二款", (1, 15), True, "AE", "CF", (0.2, 1.0)),
    PenaltyTemplate("市场监管", "生产不符合保障人身、财产安全的国家标准的产品",
                    "经省级产品质量监督抽查，当事人生产的{product}经检验，{n}项指标不符合相关国家标准要求，"
                    "检验结论为不合格。",
                    "《中华人民共和国产品质量法》第四十九条", (2, 20), True, "A", "C"),
    PenaltyTemplate("税务", "未按照规定期限办理纳税申报和报送纳税资料",
                    "当事人未按照规定期限办理{period}{tax}的纳税申报和报送纳税资料。",
                    "《中华人民共和国税收征收管理法》第六十二条", (0.02, 0.2), False, "AE", ""),
    PenaltyTemplate("税务", "虚开发票",
                    "当事人于{year}年{m1}月至{m2}月期间，在没有真实业务交易的情况下为他人开具增值税普通发票{n}份，"
                    "金额合计{amount}元。",
                    "《中华人民共和国发票管理办法》第三十五条", (5, 50), True, "A", "", (2.0, 20.0)),
    PenaltyTemplate("税务", "偷税",
                    "当事人采取在账簿上少列收入的手段，少缴{year}年度企业所得税{amount}元。",
                    "《中华人民共和国税收征收管理法》第六十三条第一款", (5, 100), False, "A", "", (1.0, 2.0)),
    PenaltyTemplate("生态环境", "超过大气污染物排放标准排放大气污染物",
                    "{d}，执法人员对当事人进行现场检查，经监测，当事人{n}号排气筒排放的{pollutant}浓度为{conc}mg/m³，"
                    "超过《大气污染物综合排放标准》（DB32/4041-2021）规定的{limit}mg/m³排放限值。",
                    "《中华人民共和国大气污染防治法》第九十九条第（二）项", (10, 100), False, "A", "CDN"),
    PenaltyTemplate("生态环境", "建设项目未依法报批环境影响评价文件擅自开工建设",
                    "当事人{product}生产线技术改造项目未依法报批建设项目环境影响报告表，擅自开工建设并投入生产。",
                    "《中华人民共和国环境影响评价法》第三十一条第一款", (5, 30), False, "A", "CD"),
    PenaltyTemplate("生态环境", "未按照规定贮存危险废物",
                    "{d}，执法人员检查发现当事人将生产过程中产生的{waste}露天堆放，未设置危险废物识别标志，"
                    "未采取防扬散、防流失、防渗漏措施。",
                    "《中华人民共和国固体废物污染环境防治法》第一百一十二条第一款第（六）项", (10, 50), False, "A", "CGO"),
    PenaltyTemplate("住建", "未取得施工许可证擅自施工",
                    "当事人承建的{project}项目在未取得建筑工程施工许可证的情况下擅自开工建设。",
                    "《建设工程质量管理条例》第五十七条", (1, 20), False, "A", "EK"),
    PenaltyTemplate("住建", "施工工地扬尘污染防治措施落实不到位",
                    "{d}，执法人员检查发现当事人承建的{project}项目施工现场裸土未覆盖、出场车辆未冲洗，"
                    "扬尘污染防治措施落实不到位。",
                    "《中华人民共和国大气污染防治法》第一百一十五条第一款第（一）项", (1, 10), False, "A", "E"),
    PenaltyTemplate("住建", "施工起重机械未经验收即投入使用",
                    "当事人承建的{project}项目使用的{n}台塔式起重机未经验收即投入使用。",
                    "《建设工程安全生产管理条例》第六十五条第（四）项", (10, 30), False, "A", "E"),
    PenaltyTemplate("交通运输", "未取得道路运输经营许可擅自从事道路普通货物运输经营",
                    "{d}，执法人员在{road}检查时发现当事人所属车辆{plate}未取得道路运输证从事货物运输经营。",
                    "《中华人民共和国道路运输条例》第六十三条", (0.3, 1), False, "AEP", "G"),
    PenaltyTemplate("交通运输", "车辆超限运输",
                    "{d}，当事人所属车辆{plate}车货总质量{weight}吨，超过限定标准{over}吨，擅自在公路上行驶。",
                    "《公路安全保护条例》第六十四条", (0.05, 3), False, "AEP", "G"),
    PenaltyTemplate("交通运输", "未按规定对运输车辆进行维护和检测",
                    "{d}，执法人员检查发现当事人所属营运车辆{plate}未按规定进行二级维护和综合性能检测。",
                    "《中华人民共和国道路运输条例》第七十条第一款", (0.1, 0.5), False, "A", "G"),
    PenaltyTemplate("应急管理", "未按照规定对从业人员进行安全生产教育和培训",
                    "{d}，执法人员检查发现当事人未按规定对{n}名新进从业人员进行安全生产教育和培训，"
                    "未如实记录安全生产教育和培训情况。",
                    "《中华人民共和国安全生产法》第九十七条第（三）项", (1, 10), False, "A", "CEGK"),
    PenaltyTemplate("应急管理", "未建立事故隐患排查治理制度",
                    "{d}，执法人员检查发现当事人未建立事故隐患排查治理制度，未如实记录事故隐患排查治理情况。",
                    "《中华人民共和国安全生产法》第一百零一条第（五）项", (2, 10), False, "A", "CEG"),
    PenaltyTemplate("应急管理", "未在有较大危险因素的场所设置明显的安全警示标志",
                    "{d}，执法人员检查发现当事人{n}处有较大危险因素的生产场所未设置明显的安全警示标志。",
                    "《中华人民共和国安全生产法》第九十九条第（一）项", (1, 5), False, "A", "CF"),
    PenaltyTemplate("人力资源社会保障", "违反工作时间规定延长劳动者工作时间",
                    "当事人安排{n}名劳动者每日工作超过{hours}小时，延长工作时间超过法定限额。",
                    "《劳动保障监察条例》第二十五条", (0.1, 1), False, "A", "CGHO"),
    PenaltyTemplate("人力资源社会保障", "未按规定开设农民工工资专用账户",
                    "当事人承建的{project}项目未按规定开设农民工工资专用账户，未实行农民工工资专用账户管理。",
                    "《保障农民工工资支付条例》第五十五条第（二）项", (1, 5), False, "A", "E"),
)
PENALTY_SECTORS_BY_INDUSTRY: dict[str, dict[str, int]] = {
    "H": {"市场监管": 85, "税务": 10, "人力资源社会保障": 5},
    "F": {"市场监管": 65, "税务": 30, "应急管理": 5},
    "C": {"市场监管": 30, "生态环境": 35, "应急管理": 20, "税务": 10, "人力资源社会保障": 5},
    "E": {"住建": 50, "人力资源社会保障": 20, "应急管理": 15, "税务": 15},
    "G": {"交通运输": 70, "税务": 10, "应急管理": 10, "人力资源社会保障": 5, "生态环境": 5},
    "D": {"生态环境": 60, "税务": 40},
    "N": {"生态环境": 60, "税务": 40},
}
DEFAULT_PENALTY_SECTORS = {"税务": 50, "市场监管": 45, "人力资源社会保障": 5}

SERIOUS_LISTS: dict[str, tuple[str, str, str]] = {  # sector → 名单类型, 列入事由, 文书号前缀
    "市场监管": ("严重违法失信名单",
             "因{behaviour}行为受到较重行政处罚，且拒不履行法定义务，依据《市场监督管理严重违法失信名单管理办法》"
             "第二条、第十条列入严重违法失信名单", "宁市监严列"),
    "税务": ("重大税收违法失信主体",
           "虚开增值税普通发票100份以上且票面金额累计400万元以上，依据《重大税收违法失信主体信息公布管理办法》"
           "第六条确定为重大税收违法失信主体", "宁税稽重公"),
    "住建": ("建筑市场主体严重失信",
           "在承揽工程中利用虚假材料骗取中标，依据《建筑市场信用管理暂行办法》第十四条列入建筑市场主体"
           "严重失信名单", "宁建信严"),
    "应急管理": ("安全生产严重失信主体",
             "拒不执行安全监管监察指令，经责令限期整改逾期未改正，依据《安全生产严重失信主体名单管理办法》"
             "第七条列入严重失信主体名单", "宁应急失信"),
    "人力资源社会保障": ("拖欠农民工工资失信联合惩戒对象",
                 "克扣、无故拖欠农民工工资达到认定拒不支付劳动报酬罪数额标准，依据《拖欠农民工工资失信联合惩戒"
                 "对象名单管理暂行办法》第五条列入失信联合惩戒对象名单", "宁人社失信"),
    "财政": ("政府采购严重违法失信行为记录",
           "在政府采购活动中提供虚假材料谋取中标，依据《中华人民共和国政府采购法》第七十七条列入不良行为记录"
           "名单，三年内禁止参加政府采购活动", "宁财购处"),
}

HONOURS: tuple[tuple[str, str, str, str, str], ...] = (  # sector, 荣誉名称, 授予机关, 级别, industries
    ("市场监管", "江苏省守合同重信用企业", "江苏省市场监督管理局", "省级", ""),
    ("市场监管", "南京市守合同重信用企业", "南京市市场监督管理局", "市级", ""),
    ("市场监管", "南京市食品安全示范单位", "南京市市场监督管理局", "市级", "HF"),
    ("发展改革", "南京市诚信建设示范企业", "南京市社会信用体系建设领导小组办公室", "市级", ""),
    ("发展改革", "江苏省信用管理示范企业", "江苏省发展和改革委员会", "省级", ""),
    ("人力资源社会保障", "南京市和谐劳动关系模范企业", "南京市人力资源和社会保障局", "市级", ""),
    ("人力资源社会保障", "江苏省劳动保障守法诚信示范用人单位", "江苏省人力资源和社会保障厅", "省级", ""),
    ("税务", "南京市纳税信用示范企业", "国家税务总局南京市税务局", "市级", ""),
)
QUALIFICATIONS = ("会计专业技术资格（中级）", "会计专业技术资格（初级）", "经济专业技术资格（中级）",
                  "企业人力资源管理师（三级）", "电工（四级）", "焊工（四级）", "育婴员（四级）",
                  "中式烹调师（四级）", "助理社会工作师", "养老护理员（四级）", "健康管理师（三级）",
                  "保育师（四级）", "汽车维修工（三级）")
EXECUTION_BEHAVIOURS = (
    "有履行能力而拒不履行生效法律文书确定义务",
    "有履行能力而拒不履行生效法律文书确定义务，违反财产报告制度",
    "违反限制消费令",
    "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行",
    "无正当理由拒不履行执行和解协议",
    "以伪造证据、暴力、威胁等方法妨碍、抗拒执行",
)
BANKS = (BANK_NAME + "南京分行", BANK_NAME + "江宁支行", "江苏银行股份有限公司南京分行",
         "中国银行股份有限公司南京河西支行", "交通银行股份有限公司江苏省分行", "南京银行股份有限公司科技支行")

# --- helpers ----------------------------------------------------------------------------------------


def _hashed_digits(text: str, count: int) -> str:
    number = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    return str(number % 10**count).zfill(count)


def _code_from_name(name: str, region: str, department: str = "1", category: str = "1", lead: str = "0") -> str:
    """A stable, valid code for a fixed body (a department or institution), independent of the seed."""
    return uscc.build(department, category, region, lead + _hashed_digits(name, 7))


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def yuan(wan: float) -> str:
    return f"{round(wan * 10000):,}"


def _round_amount(value: float) -> float:
    if value < 1:
        return round(value, 2)
    if value < 10:
        return round(value, 1)
    return float(round(value))


@dataclass
class _Profile:
    kind: str
    name: str
    district: District
    region: str
    industry: str | None = None
    registered_on: date | None = None
    legal_rep: str | None = None
    authority: str | None = None
    capital: float | None = None
    address: str | None = None
    code: str | None = None
    citizen_id: str | None = None
    penalty_numbers: list[str] = field(default_factory=list)
    dishonest: bool = False


@dataclass
class DemoSummary:
    departments: int = 0
    institutions: int = 0
    users: int = 0
    subjects: int = 0
    subjects_by_kind: dict[str, int] = field(default_factory=dict)
    records: int = 0  # facts stored (accepted and corrections)
    records_by_item: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)  # accepted / correction / duplicate
    duplicate_code_cases: int = 0
    code_conflict_cases: int = 0
    seconds: float = 0.0


class _Generator:
    def __init__(self, session: Session, seed: int) -> None:
        self.session = session
        self.rng = random.Random(seed)
        self.today = clock.today()
        self.started_at = clock.now()
        self.history_starts = self.today - timedelta(days=3 * 365)  # the platform has run for three years
        self.decision_fields: dict[str, str | None] = {}
        self.window_start = add_years(self.today, -3) + timedelta(days=1)
        self.secret = get_settings().person_id_secret
        self.departments: dict[str, Department] = {}
        self.actors: dict[str, Actor] = {}
        self.users: dict[str, User] = {}
        self.institutions: dict[str, Institution] = {}
        self.used_names: set[str] = set()
        self.used_codes: set[str] = set()
        self.used_ids: set[str] = set()
        self.counters: dict[str, int] = {}
        self.kinds: Counter[str] = Counter()
        self.items: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()
        self.duplicates = 0
        self.conflicts = 0
        self.created_users = 0

    # --- small random helpers -------------------------------------------------------------------

    def choice(self, values: Sequence[T]) -> T:
        return values[self.rng.randrange(len(values))]

    def weighted(self, weights: dict[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def between(self, low: date, high: date) -> date:
        if high <= low:
            return low
        return low + timedelta(days=self.rng.randint(0, (high - low).days))

    def decision_date(self, profile: _Profile, *, not_before: date | None = None) -> date:
        """A decision date in the last three years, after the subject existed, never in the future."""
        low = self.window_start
        if profile.registered_on is not None:
            low = max(low, profile.registered_on + timedelta(days=20))
        if not_before is not None:
            low = max(low, not_before)
        return self.between(min(low, self.today), self.today)

    def number(self, key: str, start: tuple[int, int] = (8, 160), step: tuple[int, int] = (1, 6)) -> int:
        """Document serial numbers: increasing with realistic gaps, unique per key."""
        current = self.counters.get(key)
        current = self.rng.randint(*start) if current is None else current + self.rng.randint(*step)
        self.counters[key] = current
        return current

    def person_name(self, male: bool | None = None) -> str:
        male = self.chance(0.55) if male is None else male
        if self.chance(0.01):
            surname = self.choice(COMPOUND_SURNAMES)
        else:
            weights = [1 / (i + 6) for i in range(len(SURNAMES))]
            surname = self.rng.choices(SURNAMES, weights=weights)[0]
        pool = GIVEN_MALE if male else GIVEN_FEMALE
        given = self.choice(pool) + (self.choice(pool) if self.chance(0.72) else "")
        return surname + given

    def zihao(self) -> str:
        if self.chance(0.15):
            return self.choice(ZIHAO_LOCAL)
        while True:
            first, second = self.choice(ZIHAO_FIRST), self.choice(ZIHAO_SECOND)
            if first != second and first + second not in FAMOUS_ZIHAO:
                return first + second

    def district(self, *, rural: bool = False) -> District:
        pool = [d for d in DISTRICTS if d.rural] if rural else list(DISTRICTS)
        return self.rng.choices(pool, weights=[d.weight for d in pool])[0]

    def address(self, district: District) -> str:
        road = self.choice(district.roads)
        text = f"{CITY}{district.name}{road}{self.rng.randint(1, 399)}号"
        if self.chance(0.4):
            text += f"{self.rng.randint(1, 12)}栋{self.rng.randint(1, 28)}{self.rng.randint(1, 20):02d}室"
        return text

    def registration_date(self, earliest: int = 1996) -> date:
        years = list(range(earliest, self.today.year + 1))
        weights = [1 + max(0, y - 2005) * (0.6 if y < 2014 else 1.4) for y in years]
        year = self.rng.choices(years, weights=weights)[0]
        start = date(year, 1, 1)
        end = min(date(year, 12, 31), self.today - timedelta(days=60))
        return self.between(start, end) if start <= end else end

    def unique_name(self, make: Callable[[], str]) -> str:
        for _ in range(50):
            name = make()
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        name = make() + f"（{len(self.used_names)}）"
        self.used_names.add(name)
        return name

    def org_code(self, department: str, category: str, region: str, body: Callable[[], str]) -> str:
        while True:
            code = uscc.build(department, category, region, body())
            if code not in self.used_codes:
                self.used_codes.add(code)
                return code

    def body_new(self, prefix: str = "MA") -> str:
        letters = uscc.ALPHABET
        return prefix + "".join(self.choice(letters) for _ in range(8 - len(prefix)))

    def body_old(self, lead: str) -> str:
        return self.choice(lead) + "".join(self.choice("0123456789") for _ in range(7))

    def citizen_id(self, district: District, birth: date, male: bool) -> str:
        """A valid 居民身份证号码 whose address code was in force in the birth year.

        python-stdnum dates its division table from 1983, so people born earlier get one of the
        former counties (江宁县, 江浦县, 六合县) whose validity has no start year.
        """
        if birth.year < 1983:
            candidates = ["320121", "320122", "320123"]
        else:
            candidates = [district.code, *HISTORIC_CODES.get(district.code, ())]
        for _ in range(20):
            for region in candidates:
                serial = self.rng.randint(0, 99) * 10 + self.rng.choice((1, 3, 5, 7, 9) if male else (0, 2, 4, 6, 8))
                first17 = f"{region}{birth:%Y%m%d}{serial:03d}"
                number = first17 + ric.calc_check_digit(first17 + "0")
                if number not in self.used_ids and ric.is_valid(number):
                    self.used_ids.add(number)
                    return number
        raise RuntimeError(f"could not make a valid citizen ID for {district.name}, born {birth}")

    # --- fixed bodies and accounts ---------------------------------------------------------------

    def setup(self) -> None:
        for spec in DEPARTMENTS:
            lead = "4" if spec.category == "12" else "0"
            code = _code_from_name(spec.name, CITY_CODE, "1", spec.category[1], lead)
            self.departments[spec.sector] = access.create_department(
                self.session, code=code, name=spec.name, short_name=spec.short_name, region_code=CITY_CODE,
                sector=spec.sector, provides_data=True, applies_data=spec.applies)
        self.institutions["bank"] = access.create_institution(
            self.session, code=_code_from_name(BANK_NAME, CITY_CODE, "9", "1", "1"), name=BANK_NAME, kind="bank")
        self.institutions["operator"] = access.create_institution(
            self.session, code=_code_from_name(OPERATOR_NAME, CITY_CODE, "9", "1", "M"), name=OPERATOR_NAME,
            kind="operator")
        existing = {u.username: u for u in access.users(self.session)}
        bootstrap = Actor.system("演示数据初始化")
        fgw = self.departments["发展改革"]
        planned: list[tuple[str, str, str, dict[str, int | None]]] = [
            ("admin", "authority_admin", "市发展改革委信用处管理员", {"department_id": fgw.id}),
            ("shenji", "auditor", "安全审计员", {}),
            ("ggzy", "applying_department", "市公共资源交易中心经办人",
             {"department_id": self.departments["公共资源交易"].id}),
            ("yinhang", "authorised_institution", "金陵商业银行普惠金融部",
             {"institution_id": self.institutions["bank"].id}),
            ("yunying", "authorised_institution", "金陵征信数据产品部",
             {"institution_id": self.institutions["operator"].id}),
        ]
        for spec in DEPARTMENTS:
            planned.append((spec.submitter, "department_submitter", f"{spec.short_name}数据报送员",
                            {"department_id": self.departments[spec.sector].id}))
        listed = {account["username"]: account["display_name"] for account in DEMO_ACCOUNTS}
        for username, role, display, links in planned:
            self.users[username] = self.ensure_user(existing, bootstrap, username, role,
                                                    listed.get(username, display), links)
        for spec in DEPARTMENTS:
            self.actors[spec.sector] = access.actor_for(self.users[spec.submitter])
        self.actors["admin"] = access.actor_for(self.users["admin"])

    def ensure_user(self, existing: dict[str, User], actor: Actor, username: str, role: str, display: str,
                    links: dict[str, int | None]) -> User:
        if username in existing:
            return existing[username]
        user = access.create_user(self.session, actor, access.NewUser(
            username=username, password=DEMO_PASSWORD, role=role, display_name=display, **links))
        self.created_users += 1
        return user

    # --- subjects -------------------------------------------------------------------------------

    def market_authority(self, district: District | None) -> tuple[str, str]:
        if district is None:
            return self.departments["市场监管"].name, self.departments["市场监管"].code
        name = f"{CITY}{district.name}市场监督管理局"
        return name, _code_from_name(name, district.code)

    def enterprise(self) -> _Profile:
        industry = self.weighted(ENTERPRISE_INDUSTRY_WEIGHTS)
        district = self.district(rural=industry == "A")
        word = self.choice(INDUSTRY_WORDS[industry])
        joint_stock = self.chance(0.03)

        def make() -> str:
            roll = self.rng.random()
            zihao = self.zihao()
            if joint_stock:
                return f"南京{zihao}{word}股份有限公司"
            if roll < 0.70:
                return f"南京{zihao}{word}有限公司"
            if roll < 0.82:
                return f"江苏{zihao}{word}有限公司"
            if roll < 0.88:
                return f"{zihao}（南京）{word}有限公司"
            if roll < 0.94:
                return f"南京{district.name[:-1]}{zihao}{word}有限公司"
            return f"南京{zihao}{word}有限责任公司"

        name = self.unique_name(make)
        registered = self.registration_date()
        city_level = joint_stock or self.chance(0.12)
        region = CITY_CODE if city_level else district.code
        authority, _ = self.market_authority(None if city_level else district)
        new_style = registered >= date(2015, 10, 1)
        code = self.org_code("9", "1", region,
                             (lambda: self.body_new("MA" + self.choice("1234"))) if new_style
                             else (lambda: self.body_old("13567")))
        capital_choices = (10, 30, 50, 100, 200, 300, 500, 1000, 2000, 5000, 10000)
        capital = float(self.rng.choices(capital_choices, weights=(8, 6, 12, 18, 12, 10, 12, 10, 5, 3, 1))[0])
        if joint_stock:
            capital = max(capital, 3000.0)
        return _Profile(kind="enterprise", name=name, district=district, region=region, industry=industry,
                        registered_on=registered, legal_rep=self.person_name(), authority=authority,
                        capital=capital, address=self.address(district), code=code)

    def individual_business(self) -> _Profile:
        industry = self.weighted(SHOP_INDUSTRY_WEIGHTS)
        district = self.district()
        owner = self.person_name()
        shop = self.choice(SHOPS[industry])

        def make() -> str:
            roll = self.rng.random()
            if roll < 0.45:
                return f"{district.name}{owner}{shop}"
            if roll < 0.75:
                return f"{CITY}{district.name}{owner[0]}记{shop}"
            return f"{district.name}{self.zihao()}{shop}"

        name = self.unique_name(make)
        registered = self.registration_date(2003)
        authority, _ = self.market_authority(district)
        new_style = registered >= date(2016, 1, 1)
        code = self.org_code("9", "2", district.code,
                             (lambda: self.body_new("MA" + self.choice("1234"))) if new_style
                             else (lambda: "L" + self.body_old("0123456789")[1:]))
        return _Profile(kind="individual_business", name=name, district=district, region=district.code,
                        industry=industry, registered_on=registered, legal_rep=owner, authority=authority,
                        capital=float(self.rng.choice((1, 2, 3, 5, 10, 20, 30, 50))), address=self.address(district),
                        code=code)

    def cooperative(self) -> _Profile:
        district = self.district(rural=True)
        crop = self.choice(CROPS)

        def make() -> str:
            place = self.choice(district.places) if self.chance(0.5) else self.choice(VILLAGES)
            return f"{CITY}{district.name}{place}{crop}专业合作社"

        name = self.unique_name(make)
        registered = self.registration_date(2008)
        authority, _ = self.market_authority(district)
        new_style = registered >= date(2015, 10, 1)
        code = self.org_code("9", "3", district.code,
                             (lambda: self.body_new("MA" + self.choice("1234"))) if new_style
                             else (lambda: self.body_old("3568")))
        return _Profile(kind="cooperative", name=name, district=district, region=district.code, industry="A",
                        registered_on=registered, legal_rep=self.person_name(), authority=authority,
                        capital=float(self.rng.choice((10, 20, 50, 100, 200, 500))),
                        address=f"{CITY}{district.name}{self.choice(district.places)}街道{self.choice(VILLAGES)}村",
                        code=code)

    def social_org(self) -> _Profile:
        district = self.district()
        city_level = self.chance(0.5)
        category = "1" if self.chance(0.45) else "2"
        prefix = CITY if city_level else f"{CITY}{district.name}"
        if category == "1":
            def make() -> str:
                roll = self.rng.random()
                if roll < 0.6:
                    return f"{prefix}{self.choice(ASSOCIATION_FIELDS)}协会"
                if roll < 0.8:
                    return f"{CITY}{self.choice(SOCIETY_FIELDS)}学会"
                return f"{CITY}{self.choice(CHAMBERS)}商会"
            industry = "S"
        else:
            kind_name, industry = self.choice(PRIVATE_NONPROFIT)

            def make() -> str:
                return f"{CITY}{district.name}{self.zihao()}{kind_name}"
        name = self.unique_name(make)
        if name.startswith(f"{CITY}{district.name}"):
            city_level = False
        registered = self.registration_date(2000)
        region = CITY_CODE if city_level else district.code
        authority = f"{CITY}民政局" if city_level else f"{CITY}{district.name}民政局"
        new_style = registered >= date(2016, 1, 1)
        body: Callable[[], str] = (lambda: self.body_new("MJ")) if new_style else (lambda: "50" + self.body_old("0123456789")[2:])
        code = self.org_code("5", category, region, body)
        return _Profile(kind="social_org", name=name, district=district, region=region, industry=industry,
                        registered_on=registered, legal_rep=self.person_name(), authority=authority,
                        capital=float(self.rng.choice((3, 5, 10, 20, 50, 100))), address=self.address(district),
                        code=code)

    def public_institution(self) -> _Profile:
        district = self.district()
        kind_name, industry = self.choice(PUBLIC_INSTITUTIONS)

        def make() -> str:
            place = self.choice(district.places)
            if kind_name in ("小学", "中学", "幼儿园", "社区卫生服务中心"):
                return f"{CITY}{district.name}{place}{kind_name}"
            return f"{CITY}{district.name}{kind_name}"

        name = self.unique_name(make)
        registered = self.registration_date(1996)
        authority = f"{CITY}{district.name}事业单位登记管理局"
        code = self.org_code("1", "2", district.code, lambda: self.body_old("4"))
        return _Profile(kind="public_institution", name=name, district=district, region=district.code,
                        industry=industry, registered_on=registered, legal_rep=self.person_name(),
                        authority=authority, capital=float(self.rng.choice((50, 100, 200, 500, 1000))),
                        address=self.address(district), code=code)

    def natural_person(self) -> _Profile:
        district = self.district()
        male = self.chance(0.55)
        birth = self.between(date(1958, 1, 1), date(2002, 12, 31))
        return _Profile(kind="natural_person", name=self.person_name(male), district=district,
                        region=district.code, citizen_id=self.citizen_id(district, birth, male),
                        registered_on=birth + timedelta(days=18 * 365))

    def _moment(self, day: date) -> datetime:
        """A working-hours moment on ``day``, never before the demo's history starts nor after now."""
        day = min(max(day, self.history_starts), self.today)
        at = datetime.combine(day, clock_time(9 + self.rng.randrange(8), self.rng.randrange(60)), clock.SHANGHAI)
        return min(at, self.started_at)

    def _received(self, decided: date) -> datetime:
        """When a department sent a record: mostly within a week of the decision, some late."""
        delay = self.weighted({"1": 70, "12": 20, "40": 10})
        return self._moment(decided + timedelta(days=self.rng.randint(1, int(delay) + 6)))

    def register(self, profile: _Profile) -> None:
        with clock.pinned(self._moment(profile.registered_on or self.history_starts)):
            self._register(profile)

    def _register(self, profile: _Profile) -> None:
        if profile.kind == "natural_person":
            assert profile.citizen_id is not None
            registry.register_person(self.session, self.actors["admin"], profile.citizen_id, profile.name,
                                     secret=self.secret)
        else:
            assert profile.code is not None
            market = profile.kind in ("enterprise", "individual_business", "cooperative")
            actor = self.actors["市场监管"] if market else self.actors["admin"]
            registry.register_organisation(self.session, actor, OrganisationIn(
                uscc=profile.code, name=profile.name, legal_representative=profile.legal_rep,
                registration_authority=profile.authority, registered_on=profile.registered_on,
                registered_capital=profile.capital, industry=profile.industry, address=profile.address))
        self.kinds[profile.kind] += 1

    # --- submission -----------------------------------------------------------------------------

    def submit(self, sector: str, item: str, profile: _Profile, payload: dict[str, Any],
               name: str | None = None) -> None:
        department = self.departments[sector]
        ref = (SubjectRef(uscc=profile.code, name=name or profile.name) if profile.code
               else SubjectRef(citizen_id=profile.citizen_id, name=name or profile.name))
        if item not in self.decision_fields:
            fields = catalogue.get_item(self.session, item).version.fields
            self.decision_fields[item] = next((f["name"] for f in fields if f.get("decision_date")), None)
        field_name = self.decision_fields[item]
        decided = date.fromisoformat(payload[field_name]) if field_name and payload.get(field_name) else self.today
        try:
            with clock.pinned(self._received(decided)):
                result = records.submit(self.session, self.actors[sector], item, ref, payload,
                                        department_id=department.id, department_code=department.code)
        except DomainError as error:  # a generator bug: fail loudly with the payload
            raise RuntimeError(f"demo record {item} for {profile.name} rejected: {error}; {payload}") from error
        self.outcomes[result.outcome] += 1
        if result.created:
            self.items[item] += 1

    def dept(self, sector: str) -> Department:
        return self.departments[sector]

    # --- record builders ------------------------------------------------------------------------

    def reg_basic(self, p: _Profile) -> None:
        assert p.registered_on is not None and p.industry is not None
        self.submit("市场监管", "REG_BASIC", p, {
            "DJJG": p.authority, "CLRQ": p.registered_on.isoformat(), "ZCZB": f"{p.capital:.2f}",
            "JYFW": SCOPES.get(p.industry, SCOPES["F"]) + "。（依法须经批准的项目，经相关部门批准后方可开展经营活动）",
            "ZS": p.address, "DJZT": "在业" if self.chance(0.08) else "存续"})

    def license(self, p: _Profile) -> None:
        industry = p.industry or ""
        trade = (["hazchem"] if "化工" in p.name else ["drug"] if "医药" in p.name
                 else ["food"] if any(w in p.name for w in ("商贸", "贸易有限", "食品")) else [])
        options = {"H": ["food"], "F": trade,
                   "C": ["pollutant", "food_production"] if "食品" in p.name else ["pollutant"],
                   "D": ["pollutant"], "N": ["pollutant"], "E": ["qualification", "works"], "G": ["road"]}
        if not options.get(industry):
            return
        kind = self.choice(options[industry])
        decided = self.decision_date(p)
        y = decided.year
        d = p.district
        if kind == "food":
            sector, years, category = "市场监管", 5, "普通"
            issuer, issuer_code = self.market_authority(d)
            prefix = "JY2" if industry == "H" else "JY1"
            number = f"{prefix}{d.code}{self.number('JY' + d.code, (10_000, 90_000), (1, 40)):07d}"
            wsh, doc, cert = number, "食品经营许可决定书", "食品经营许可证"
            content = ("热食类食品制售；冷食类食品制售" if industry == "H"
                       else "预包装食品（含冷藏冷冻食品）销售；散装食品（不含冷藏冷冻食品）销售")
        elif kind == "food_production":
            sector, years, category = "市场监管", 5, "普通"
            issuer, issuer_code = self.market_authority(None)
            number = f"SC1{self.choice(('01', '04', '24', '06'))}3201{d.code[4:]}{self.number('SC'):05d}"
            wsh, doc, cert = number, "食品生产许可决定书", "食品生产许可证"
            content = self.choice(("糕点（烘烤类糕点）生产", "速冻食品（速冻面米食品）生产", "饮料（蛋白饮料类）生产"))
        elif kind == "drug":
            sector, years, category = "市场监管", 5, "普通"
            issuer, issuer_code = self.market_authority(None)
            number = f"苏AA{d.code[2:]}{self.number('YP', (1000, 9000), (1, 9)):04d}"
            wsh, doc, cert = number, "药品经营许可决定书", "药品经营许可证"
            content = "药品零售连锁：处方药、甲类非处方药、乙类非处方药；中成药、化学药制剂、抗生素制剂、生化药品"
        elif kind == "hazchem":
            sector, years, category = "应急管理", 3, "普通"
            issuer, issuer_code = self.dept("应急管理").name, self.dept("应急管理").code
            number = f"苏宁危化经字〔{y}〕{self.number(f'WH{y}'):06d}"
            wsh, doc, cert = f"宁应急危化经许〔{y}〕{self.number(f'WHW{y}')}号", "危险化学品经营许可决定书", \
                "危险化学品经营许可证"
            content = "危险化学品经营（不带储存设施）：乙醇、甲苯、丙酮、乙酸乙酯"
        elif kind == "pollutant":
            sector, years, category = "生态环境", 5, "普通"
            issuer, issuer_code = self.dept("生态环境").name, self.dept("生态环境").code
            assert p.code is not None
            number = f"{p.code}001{self.choice('VUQ')}"
            wsh, doc, cert = f"宁环许〔{y}〕{self.number(f'HX{y}')}号", "排污许可决定书", "排污许可证"
            content = self.choice(("排污许可（重点管理）：废气、废水排放", "排污许可（简化管理）：废气排放"))
        elif kind == "qualification":
            sector, years, category = "住建", 5, "认可"
            issuer, issuer_code = self.dept("住建").name, self.dept("住建").code
            number = f"D3{self.number('ZZ'):08d}"
            wsh, doc, cert = f"宁建许〔{y}〕{self.number(f'JZ{y}')}号", "建筑业企业资质核准决定书", "建筑业企业资质证书"
            content = self.choice(("建筑工程施工总承包叁级", "市政公用工程施工总承包叁级",
                                   "建筑装修装饰工程专业承包贰级", "环保工程专业承包叁级"))
        elif kind == "works":
            sector, years, category = "住建", 3, "普通"
            issuer, issuer_code = self.dept("住建").name, self.dept("住建").code
            number = f"{d.code}{decided:%Y%m%d}{self.number(f'SG{decided:%Y%m%d}') % 100:02d}01"
            wsh, doc, cert = number, "建筑工程施工许可决定书", "建筑工程施工许可证"
            content = f"{CITY}{d.name}{self.choice(d.places)}{self.choice(PROJECTS)}项目建筑工程施工"
        else:  # road
            sector, years, category = "交通运输", 4, "普通"
            issuer, issuer_code = self.dept("交通运输").name, self.dept("交通运输").code
            number = f"苏交运管许可宁字{CITY_CODE}{self.number('DY'):06d}号"
            wsh, doc, cert = number, "道路运输经营许可决定书", "道路运输经营许可证"
            content = self.choice(("道路普通货物运输", "道路普通货物运输；货物专用运输（集装箱）",
                                   "道路普通货物运输；大型物件运输"))
        valid_to = add_years(decided, years) - timedelta(days=1)
        source = self.dept(sector)
        self.submit(sector, "ADM_LICENSE", p, {
            "XK_FDDB": p.legal_rep, "XK_XKWS": doc, "XK_WSH": wsh, "XK_XKLB": category, "XK_XKZS": cert,
            "XK_XKBH": number, "XK_NR": content, "XK_JDRQ": decided.isoformat(), "XK_YXQZ": decided.isoformat(),
            "XK_YXQZI": valid_to.isoformat(), "XK_XKJG": issuer, "XK_XKJGDM": issuer_code,
            "XK_ZT": "有效" if valid_to >= self.today else "无效", "XK_LYDW": source.name,
            "XK_LYDWDM": source.code})

    def penalty_issuer(self, sector: str, template: PenaltyTemplate, d: District, year: int) -> tuple[str, str, str]:
        """(处罚机关, its code, 文书号)."""
        if sector == "市场监管":
            name, code = self.market_authority(d)
            return name, code, f"宁{d.abbr}市监处罚〔{year}〕{self.number(f'SJ{d.code}{year}')}号"
        if sector == "税务":
            if template.behaviour in ("虚开发票", "偷税"):
                name = "国家税务总局南京市税务局第一稽查局"
                return name, _code_from_name(name, CITY_CODE), f"宁税稽一罚〔{year}〕{self.number(f'SWJC{year}')}号"
            name = f"国家税务总局南京市{d.name}税务局"
            return name, _code_from_name(name, d.code), f"宁{d.abbr}税简罚〔{year}〕{self.number(f'SW{d.code}{year}')}号"
        if sector == "应急管理":
            name = f"{CITY}{d.name}应急管理局"
            return name, _code_from_name(name, d.code), f"（宁{d.abbr}）应急罚〔{year}〕{self.number(f'YJ{d.code}{year}')}号"
        if sector == "人力资源社会保障":
            name = f"{CITY}{d.name}人力资源和社会保障局"
            return (name, _code_from_name(name, d.code),
                    f"宁{d.abbr}人社监罚字〔{year}〕第{self.number(f'RS{d.code}{year}')}号")
        prefixes = {"生态环境": "宁环罚〔{y}〕{n}号", "住建": "宁建罚字〔{y}〕第{n}号", "交通运输": "宁交执罚〔{y}〕{n}号"}
        department = self.dept(sector)
        return department.name, department.code, prefixes[sector].format(y=year, n=self.number(f"{sector}{year}"))

    def fill(self, text: str, decided: date, amount: float = 0.0) -> str:
        pollutant, limit = self.choice(POLLUTANTS)
        values = {
            "d": cn_date(decided - timedelta(days=self.rng.randint(20, 120))), "food": self.choice(FOODS),
            "test": self.choice(FOOD_TESTS), "claim": self.choice(CLAIMS), "n": self.rng.randint(2, 12),
            "equipment": self.choice(EQUIPMENT), "product": self.choice(PRODUCTS),
            "amount": yuan(amount) if amount else f"{self.rng.randint(3000, 200_000):,}", "period": f"{decided.year - 1}年第{self.rng.randint(1, 4)}季度",
            "tax": self.choice(("增值税", "企业所得税", "个人所得税（工资薪金所得）", "城市维护建设税")),
            "year": decided.year - 1, "m1": self.rng.randint(1, 5), "m2": self.rng.randint(6, 12),
            "pollutant": pollutant, "limit": limit, "conc": round(limit * self.rng.uniform(1.2, 3.5), 1),
            "waste": self.choice(WASTES), "project": self.choice(PROJECTS),
            "road": f"{self.choice(('G205', 'G312', 'S122', 'S337'))}国省道{self.choice(('江宁', '六合', '浦口'))}段",
            "plate": "苏A" + "".join(self.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(5)),
            "weight": round(self.rng.uniform(50, 80), 1), "over": round(self.rng.uniform(2, 30), 1),
            "hours": self.rng.randint(11, 13),
        }
        return text.format(**values)

    def penalty(self, p: _Profile, *, sector: str | None = None,
                behaviour: str | None = None) -> tuple[str, date, str] | None:
        """One administrative penalty fitting the subject's kind and industry; (sector, date, behaviour)."""
        marker = {"enterprise": "A", "cooperative": "A", "individual_business": "E", "natural_person": "P"}[p.kind]
        industry = p.industry or ""
        if sector is None:
            sector = self.weighted(PENALTY_SECTORS_BY_INDUSTRY.get(industry, DEFAULT_PENALTY_SECTORS))
        fits = [t for t in PENALTIES if t.sector == sector and marker in t.kinds
                and (not t.industries or industry in t.industries or marker == "P")
                and (behaviour is None or t.behaviour == behaviour)]
        if not fits:
            fits = [t for t in PENALTIES if marker in t.kinds and (not t.industries or industry in t.industries)]
        if not fits:
            return None
        template = self.choice(fits)
        sector = template.sector
        decided = self.decision_date(p)
        issuer, issuer_code, wsh = self.penalty_issuer(sector, template, p.district, decided.year)
        fine = _round_amount(self.rng.uniform(*template.fine))
        if p.kind == "individual_business":
            fine = _round_amount(min(fine, self.rng.uniform(0.1, 2)))
        confiscated = _round_amount(self.rng.uniform(0.05, fine)) if template.confiscate else None
        warning_only = sector == "市场监管" and template.fine[1] <= 0.5 and self.chance(0.3)
        if warning_only:
            category, content = "警告", "给予警告，责令改正。"
            fine_value: str | None = None
        elif confiscated:
            category = "没收违法所得" if self.chance(0.2) else "罚款"
            content = f"1. 没收违法所得人民币{yuan(confiscated)}元；2. 罚款人民币{yuan(fine)}元。"
            fine_value = f"{fine:.2f}"
        else:
            category, content, fine_value = "罚款", f"罚款人民币{yuan(fine)}元。", f"{fine:.2f}"
        source = self.dept(sector)
        payload: dict[str, Any] = {
            "CF_FDDB": p.legal_rep if p.kind != "natural_person" else None, "CF_WSH": wsh,
            "CF_WFXW": template.behaviour,
            "CF_SY": self.fill(template.facts, decided, fine * self.rng.uniform(*template.amount_per_fine)),
            "CF_YJ": f"依据{template.basis}的规定", "CF_CFLB": category, "CF_NR": content,
            "CF_NR_FK": fine_value, "CF_NR_WFFF": f"{confiscated:.2f}" if confiscated else None,
            "CF_JDRQ": decided.isoformat(), "CF_YXQ": add_years(decided, 1).isoformat(),
            "CF_GSJZQ": add_years(decided, 1).isoformat(), "CF_CFJG": issuer, "CF_CFJGDM": issuer_code,
            "CF_SJLY": source.name, "CF_SJLYDM": source.code,
            "CF_JYCX": "是" if wsh.find("简罚") >= 0 else "否",
        }
        self.submit(sector, "ADM_PENALTY", p, {k: v for k, v in payload.items() if v is not None})
        p.penalty_numbers.append(wsh)
        return sector, decided, template.behaviour

    def coercion(self, p: _Profile) -> None:
        sector = self.weighted({"税务": 50, "市场监管": 30, "生态环境": 20})
        decided = self.decision_date(p)
        y, d = decided.year, p.district
        if sector == "税务":
            kind = self.choice(("冻结存款汇款", "加处罚款或滞纳金", "划拨存款汇款"))
            amount = f"{self.rng.randint(20_000, 900_000):,}"
            reason = (f"当事人欠缴{y - 1}年度增值税及附加税费{amount}元，经责令限期缴纳逾期仍未缴纳，依据《中华人民共和国"
                      f"税收征收管理法》第四十条规定采取强制执行措施。")
            wsh = f"宁{d.abbr}税强〔{y}〕{self.number(f'SQ{d.code}{y}')}号"
            agency = f"国家税务总局南京市{d.name}税务局"
        elif sector == "市场监管":
            kind = self.choice(("扣押财物", "查封场所设施财物"))
            reason = (f"当事人涉嫌生产、销售不合格{self.choice(PRODUCTS)}，为防止证据损毁、转移，依据《中华人民共和国"
                      f"产品质量法》第十八条对涉案产品{self.rng.randint(50, 3000)}件予以{kind[:2]}。")
            wsh = f"宁{d.abbr}市监强〔{y}〕{self.number(f'SQJ{d.code}{y}')}号"
            agency = self.market_authority(d)[0]
        else:
            kind = "查封场所设施财物"
            reason = (f"当事人通过暗管排放含{self.choice(('重金属', '化学需氧量超标', '氨氮超标'))}废水，依据《中华人民共和国"
                      f"环境保护法》第二十五条对其污水排放设施予以查封。")
            wsh = f"宁环查封〔{y}〕{self.number(f'HQ{y}')}号"
            agency = self.dept("生态环境").name
        self.submit(sector, "ADM_COERCION", p, {"QZ_WSH": wsh, "QZ_LB": kind, "QZ_SY": reason,
                                                "QZ_JDRQ": decided.isoformat(), "QZ_JG": agency})

    def abnormal(self, p: _Profile) -> None:
        assert p.registered_on is not None
        reason = self.rng.choices(("未按规定报送年度报告", "通过登记的住所或者经营场所无法联系",
                                   "未按责令期限公示有关企业信息", "公示企业信息隐瞒真实情况弄虚作假"),
                                  weights=(70, 20, 7, 3))[0]
        if reason == "未按规定报送年度报告":
            years = [y for y in range(self.window_start.year, self.today.year + 1)
                     if y > p.registered_on.year and self.window_start <= date(y, 7, 15) <= self.today]
            if not years:
                return
            year = self.choice(years)
            listed = date(year, 7, self.rng.randint(1, 15))
        else:
            listed = self.decision_date(p)
        d = p.district
        self.submit("市场监管", "LIST_ABNORMAL", p, {
            "LRWH": f"宁{d.abbr}市监企异字〔{listed.year}〕第{self.number(f'YC{d.code}{listed.year}')}号",
            "LRYY": reason, "LRRQ": listed.isoformat(), "ZCJG": self.market_authority(d)[0]})

    def serious(self, p: _Profile) -> None:
        """A serious-dishonesty listing, preceded by the penalty that led to it where the list needs one."""
        by_industry = {"E": ("住建", "人力资源社会保障"), "C": ("市场监管", "应急管理", "税务"),
                       "F": ("税务", "市场监管"), "H": ("市场监管",)}
        sector = self.choice(by_industry.get(p.industry or "", ("税务", "财政")))
        earlier = None
        if sector in ("市场监管", "应急管理", "人力资源社会保障"):
            earlier = self.penalty(p, sector=sector)
        elif sector == "税务":
            earlier = self.penalty(p, sector=sector, behaviour="虚开发票")
        not_before = earlier[1] + timedelta(days=30) if earlier else None
        listed = self.decision_date(p, not_before=not_before)
        list_type, reason, prefix = SERIOUS_LISTS[sector]
        if sector == "市场监管":
            behaviour = earlier[2] if earlier else "严重违法"
            reason = reason.format(behaviour=behaviour)
        self.submit(sector, "LIST_SERIOUS", p, {
            "MDLX": list_type, "RDWH": f"{prefix}〔{listed.year}〕{self.number(f'YZ{sector}{listed.year}')}号",
            "RDYY": reason, "RDRQ": listed.isoformat(), "RDJG": self.dept(sector).name,
            "YXQZ": add_years(listed, 3).isoformat()})
        p.dishonest = True

    def execution(self, p: _Profile) -> None:
        published = self.decision_date(p, not_before=self.window_start + timedelta(days=90))
        filed = published - timedelta(days=self.rng.randint(30, 200))
        d = p.district
        city_court = p.kind == "enterprise" and self.chance(0.1)
        court = "南京市中级人民法院" if city_court else f"{CITY}{d.name}人民法院"
        court_code = "苏01" if city_court else f"苏01{d.code[4:]}"
        basis_year = filed.year - self.rng.choice((0, 1, 1, 2))
        basis = (f"（{basis_year}）{court_code}民初{self.number(f'MC{court_code}{basis_year}', start=(300, 2500), step=(3, 30))}号" if self.chance(0.8)
                 else f"宁劳人仲案字〔{basis_year}〕第{self.number(f'ZC{basis_year}')}号")
        amount = self.rng.uniform(0.3, 30) if p.kind == "natural_person" else self.rng.uniform(2, 500)
        self.submit("法院", "JUD_EXECUTION", p, {
            "AH": f"（{filed.year}）{court_code}执{self.number(f'Z{court_code}{filed.year}', start=(300, 2500), step=(3, 30))}号",
            "ZXFY": court, "ZXYJWH": basis, "LXQK": "全部未履行" if self.chance(0.72) else "部分未履行",
            "SXXW": self.rng.choices(EXECUTION_BEHAVIOURS, weights=(60, 15, 10, 8, 5, 2))[0],
            "FBRQ": published.isoformat(), "SXJE": f"{_round_amount(amount):.2f}"})
        p.dishonest = True

    def tax_credit(self, p: _Profile, *, grade: str | None = None) -> None:
        assert p.registered_on is not None
        years = [y for y in range(self.window_start.year - 1, self.today.year)
                 if self.window_start <= date(y + 1, 4, 28) and date(y + 1, 4, 10) <= self.today
                 and p.registered_on.year <= y]
        if not years:
            return
        count = self.rng.choice((1, 2, 2, 3))
        base = grade or self.rng.choices("ABMCD", weights=(18, 55, 14, 9, 4))[0]
        for year in sorted(years)[-count:]:
            if grade:
                level = grade
            elif p.dishonest:
                level = "D"
            elif p.registered_on.year >= year - 1 and base in "AB":
                level = "M"
            elif self.chance(0.15):
                level = self.rng.choices("ABMC", weights=(20, 60, 10, 10))[0]
            else:
                level = base
            rated = min(max(date(year + 1, 4, self.rng.randint(10, 28)), self.window_start), self.today)
            self.submit("税务", "TAX_CREDIT", p, {"PJND": year, "NSXYDJ": level, "PDRQ": rated.isoformat()})

    def evaluation(self, p: _Profile) -> None:
        assert p.registered_on is not None
        options = {"E": ("住建", "南京市建筑业企业信用综合评价", ("AAA", "AA", "A", "B", "C"), (10, 30, 40, 15, 5), 3),
                   "G": ("交通运输", "道路运输企业质量信誉考核", ("AAA", "AA", "A", "B"), (10, 30, 45, 15), 5),
                   "C": ("生态环境", "企业环境信用评价", ("绿色", "蓝色", "黄色", "红色", "黑色"), (20, 55, 15, 8, 2), 6)}
        sector, kind, grades, weights, month = options[p.industry or "C"]
        years = [y for y in range(self.window_start.year - 1, self.today.year)
                 if self.window_start <= date(y + 1, month, 25) and date(y + 1, month, 1) <= self.today
                 and p.registered_on.year <= y]
        for year in sorted(years)[-self.rng.choice((1, 2)):]:
            rated = min(max(date(year + 1, month, self.rng.randint(1, 25)), self.window_start), self.today)
            self.submit(sector, "EVAL_RESULT", p, {
                "PJLX": kind, "PJND": year, "PJDJ": self.rng.choices(grades, weights=weights)[0],
                "PJJG": self.dept(sector).name, "PJRQ": rated.isoformat()})

    def social_insurance(self, p: _Profile, name: str | None = None) -> None:
        assert p.capital is not None
        staff = max(1, int(self.rng.lognormvariate(2.3, 1.0) * (1.5 if p.capital >= 1000 else 1)))
        months = self.rng.choice((1, 1, 2))
        latest = date(self.today.year, self.today.month, 1) - timedelta(days=1)
        if self.today.day <= 10:
            latest = date(latest.year, latest.month, 1) - timedelta(days=1)
        for back in range(months):
            month_end = latest
            for _ in range(back):
                month_end = date(month_end.year, month_end.month, 1) - timedelta(days=1)
            payload: dict[str, Any] = {"TJYF": f"{month_end:%Y-%m}", "CBRS": staff,
                                       "TJRQ": (month_end + timedelta(days=10)).isoformat()}
            if self.chance(0.1):
                payload["QFJE"] = f"{_round_amount(staff * self.rng.uniform(0.1, 0.5)):.2f}"
            self.submit("人力资源社会保障", "SOCIAL_INSURANCE", p, payload, name=name)

    def honour(self, p: _Profile) -> None:
        industry = p.industry or ""
        fits = [h for h in HONOURS if not h[4] or industry in h[4]]
        sector, title, grantor, level, _ = self.choice(fits)
        years = [y for y in range(self.window_start.year, self.today.year + 1)
                 if self.window_start <= date(y, 3, 15) <= self.today]
        if not years:
            return
        year = self.choice(years)
        granted = date(year, 3, 15) + timedelta(days=int(_hashed_digits(f"{title}{year}", 2)) % 60)
        granted = min(max(granted, self.window_start), self.today)
        self.submit(sector, "HONOUR", p, {"RYMC": title, "SYJG": grantor, "SYRQ": granted.isoformat(), "RYJB": level})

    def commitment(self, p: _Profile, *, kind: str | None = None) -> None:
        weights = {"审批替代型": 45, "容缺受理型": 15, "行业自律型": 15, "主动型": 15}
        if p.penalty_numbers:
            weights["信用修复型"] = 40
        kind = kind or self.weighted(weights)
        promised = self.decision_date(p)
        matters = ("食品经营许可", "公共场所卫生许可", "道路货物运输经营许可", "建设工程消防验收备案",
                   "企业投资项目备案", "户外广告设施设置许可", "营业执照变更登记")
        if kind == "审批替代型":
            text = (f"申请{self.choice(matters)}时，对证明事项实行告知承诺，承诺所提交材料真实有效、符合法定条件，"
                    "如有不实愿承担相应法律责任并接受信用惩戒。")
        elif kind == "容缺受理型":
            text = (f"申请{self.choice(matters)}时部分非关键材料暂缺，承诺于{self.rng.choice((5, 10, 15))}个工作日内补齐，"
                    "逾期未补齐的自愿撤回申请。")
        elif kind == "行业自律型":
            text = ("作为行业协会会员单位，承诺依法诚信经营，不制售假冒伪劣商品，不进行虚假宣传，自觉接受行业自律"
                    "和社会监督。")
        elif kind == "信用修复型":
            text = (f"就{p.penalty_numbers[-1]}行政处罚决定，承诺已全面履行处罚决定规定的义务，已完成整改，今后依法"
                    "诚信经营，不再发生同类违法行为。")
        else:
            text = "承诺依法依规诚信经营，遵守社会公德和商业道德，自愿接受政府、行业和社会监督，违背承诺自愿接受惩戒。"
        sector = "市场监管" if kind in ("审批替代型", "容缺受理型") else "发展改革"
        age = (self.today - promised).days
        status = ("履约中" if age < 90 else self.rng.choices(("已履约", "履约中", "未履约"), weights=(80, 15, 5))[0])
        if kind == "容缺受理型" and age > 30 and status == "履约中":
            status = "已履约"
        number = f"CN{p.region}{promised:%Y%m%d}{self.number(f'CN{promised:%Y%m%d}'):04d}"
        self.submit(sector, "COMMITMENT", p, {"CNBH": number, "CNLX": kind, "CNSX": text,
                                              "CNRQ": promised.isoformat(), "LYZT": status})
        if status == "未履约":  # a broken commitment is also a dishonesty record (信用承诺未履行)
            found = min(promised + timedelta(days=self.rng.randint(30, 80)), self.today)
            self.submit(sector, "COMMITMENT_BREACH", p, {
                "CNBH": number, "CNLX": kind, "CNSX": text, "RDRQ": found.isoformat(),
                "WLYQK": "经核查，主体未按承诺期限和内容履行，承诺事项存在不实情形", "RDJG": self.dept(sector).name})

    def contract(self, p: _Profile) -> None:
        signed = self.decision_date(p)
        d = self.choice(DISTRICTS)
        industry = p.industry or "F"
        if industry == "E":
            sector = "公共资源交易"
            title = f"{CITY}{d.name}{self.choice(d.places)}{self.choice(PROJECTS)}工程施工合同"
            number = f"NJGC{signed.year}{self.number(f'GC{signed.year}'):05d}"
            amount = self.rng.uniform(200, 8000)
        else:
            sector = self.choice(("财政", "公共资源交易"))
            buyer = self.choice((f"{CITY}{d.name}教育局", f"{CITY}{d.name}城市管理局", f"{CITY}{d.name}卫生健康委员会",
                                 f"{CITY}{d.name}人民政府{self.choice(d.places)}街道办事处", f"{CITY}数据局"))
            goods = {"I": "信息化系统建设及运维服务", "C": "设备采购", "F": "办公用品及耗材采购",
                     "L": "咨询服务", "N": "环卫保洁服务", "M": "检测服务", "O": "物业及后勤服务"}.get(industry, "货物采购")
            title = f"{buyer}{signed.year}年{goods}项目政府采购合同"
            prefix = "NJZC" if sector == "财政" else "NJGG"
            number = f"{prefix}{signed.year}{self.number(prefix + str(signed.year)):05d}"
            amount = self.rng.uniform(5, 800)
        self.submit(sector, "CONTRACT", p, {
            "HTBH": number, "HTMC": title, "HTJE": f"{_round_amount(amount):.2f}",
            "LYQK": self.rng.choices(("按期履约", "逾期履约", "违约"), weights=(86, 10, 4))[0],
            "QDRQ": signed.isoformat()})

    def pledge(self, p: _Profile, *, pledgee: str | None = None) -> None:
        registered = self.decision_date(p)
        kind = self.rng.choices(("专利质押", "商标质押", "软件著作权质押"), weights=(60, 30, 10))[0]
        if kind == "专利质押":
            number = f"Y{registered.year}32000{self.number(f'ZL{registered.year}'):05d}"
        elif kind == "商标质押":
            number = f"苏商标质字〔{registered.year}〕第{self.number(f'SB{registered.year}'):04d}号"
        else:
            number = f"{registered.year}R11L{self.number(f'RJ{registered.year}'):06d}"
        self.submit("知识产权", "IP_PLEDGE", p, {"DJH": number, "ZYLX": kind, "ZQR": pledgee or self.choice(BANKS),
                                              "DJRQ": registered.isoformat()})

    def qualification(self, p: _Profile) -> None:
        obtained = self.decision_date(p)
        phone = "1" + self.choice("3456789") + "".join(self.choice("0123456789") for _ in range(9))
        self.submit("人力资源社会保障", "PROFESSIONAL_QUALIFICATION", p, {
            "ZGMC": self.choice(QUALIFICATIONS),
            "ZSBH": f"S{obtained.year}3201{self.number(f'ZS{obtained.year}'):08d}", "LXDH": phone,
            "HDRQ": obtained.isoformat()})

    # --- per subject plans ----------------------------------------------------------------------

    def records_for(self, p: _Profile) -> None:
        if p.kind == "natural_person":
            if self.chance(0.35):
                self.qualification(p)
            if self.chance(0.2):
                self.execution(p)
            if self.chance(0.04):
                self.penalty(p, sector="交通运输")
            return
        if p.kind in ("enterprise", "individual_business", "cooperative"):
            self.reg_basic(p)
        if p.kind == "enterprise":
            self.enterprise_records(p)
        elif p.kind == "individual_business":
            if self.chance(0.45):
                self.license(p)
            if self.chance(0.10):
                self.penalty(p)
            if self.chance(0.01):
                self.execution(p)
            if self.chance(0.20):
                self.tax_credit(p)
            if self.chance(0.08):
                self.commitment(p)
        elif p.kind == "cooperative":
            if self.chance(0.03):
                self.abnormal(p)
            if self.chance(0.2):
                self.tax_credit(p)
            if self.chance(0.15):
                self.commitment(p)
        elif p.kind == "social_org":
            if self.chance(0.35):
                self.commitment(p, kind=self.choice(("行业自律型", "主动型")))
            if self.chance(0.25):
                self.social_insurance(p)
        else:  # public institution
            if self.chance(0.5):
                self.social_insurance(p)
            if self.chance(0.1):
                self.commitment(p, kind="主动型")

    def enterprise_records(self, p: _Profile) -> None:
        industry = p.industry or ""
        licence_odds = {"H": 0.65, "F": 0.25, "C": 0.35, "D": 0.5, "N": 0.3, "E": 0.5, "G": 0.6}
        if self.chance(licence_odds.get(industry, 0.0)):
            self.license(p)
        if self.chance(0.008):
            self.serious(p)
        elif self.chance(0.13):
            self.penalty(p)
            if self.chance(0.1):
                self.penalty(p)
        if self.chance(0.015):
            self.coercion(p)
        if self.chance(0.06):
            self.abnormal(p)
        if self.chance(0.025):
            self.execution(p)
        if self.chance(0.5):
            self.tax_credit(p)
        if (industry in ("E", "G") and self.chance(0.4)) or (industry == "C" and self.chance(0.15)):
            self.evaluation(p)
        if self.chance(0.2):
            self.social_insurance(p)
        if not p.dishonest and self.chance(0.05):
            self.honour(p)
        if self.chance(0.16):
            self.commitment(p)
        if industry and industry in "ECFILMNO" and self.chance(0.07):
            self.contract(p)
        if industry and industry in "CIM" and self.chance(0.05):
            self.pledge(p)

    def showcase(self) -> _Profile:
        """The enterprise behind the ``qiye`` account: a little of everything, fixed."""
        district = next(d for d in DISTRICTS if d.code == "320115")
        registered = date(2016, 5, 18)
        p = _Profile(kind="enterprise", name=SHOWCASE_NAME, district=district, region=district.code, industry="I",
                     registered_on=registered, legal_rep="周建华", authority=self.market_authority(district)[0],
                     capital=1000.0, address=f"{CITY}江宁区秣周东路12号紫金江宁科技园3栋1506室",
                     code=uscc.build("9", "1", district.code, "MA1MK8W" + "3"))
        self.used_codes.add(p.code or "")
        self.used_names.add(p.name)
        return p

    def showcase_records(self, p: _Profile) -> None:
        self.reg_basic(p)
        self.tax_credit(p, grade="A")
        self.penalty(p, sector="市场监管")
        self.commitment(p, kind="信用修复型")
        self.honour(p)
        self.social_insurance(p)
        self.pledge(p, pledgee=BANK_NAME + "江宁支行")

    # --- planted registry problems --------------------------------------------------------------

    def duplicate_of(self, p: _Profile) -> _Profile:
        """The same enterprise again under a second code (重复赋码): same name, same district."""
        new_style = (p.code or "")[8:10] == "MA"
        code = self.org_code("9", "1", p.region, (lambda: self.body_old("13567")) if new_style
                             else (lambda: self.body_new("MA" + self.choice("1234"))))
        return _Profile(kind="enterprise", name=p.name, district=p.district, region=p.region, industry=p.industry,
                        registered_on=p.registered_on, legal_rep=p.legal_rep, authority=p.authority,
                        capital=p.capital, address=p.address, code=code)

    def variant_name(self, p: _Profile) -> str:
        roll = self.rng.random()
        if roll < 0.35 and p.name.endswith("有限公司") and not p.name.endswith("股份有限公司"):
            return p.name[: -len("有限公司")] + "有限责任公司"
        if roll < 0.7 and p.industry:
            words = [w for w in INDUSTRY_WORDS[p.industry] if w not in p.name]
            for word in INDUSTRY_WORDS[p.industry]:
                if word in p.name and words:
                    return p.name.replace(word, self.choice(words))
        return self.unique_name(lambda: f"南京{self.zihao()}{self.choice(INDUSTRY_WORDS['F'])}有限公司")

    def code_conflict(self, p: _Profile) -> None:
        """Another department reports this code under a different name (一码多赋)."""
        self.social_insurance(p, name=self.variant_name(p))


def generate(session: Session, *, subjects: int = 3000, seed: int = 20261127,
             progress: Callable[[int, int], None] | None = None) -> DemoSummary:
    """Create the demo jurisdiction: departments, institutions, accounts, subjects and their records.

    ``subjects`` counts every subject made, the planted duplicates included. Assumes the policy
    parameters and the catalogue are seeded. Commits every ``CHUNK`` subjects and reports
    ``progress(done, total)`` after each commit.
    """
    started = time.perf_counter()
    total = max(1, subjects)
    gen = _Generator(session, seed)
    gen.setup()
    showcase = gen.showcase()
    gen.register(showcase)
    assert showcase.code is not None
    owner = registry.by_code_or_fail(session, showcase.code)
    gen.users["qiye"] = gen.ensure_user({u.username: u for u in access.users(session)},
                                        Actor.system("演示数据初始化"), "qiye", "subject_user", SHOWCASE_NAME,
                                        {"subject_id": owner.id})
    gen.showcase_records(showcase)
    session.commit()

    # Planted registry problems: about 0.15% of subjects each, at least one of each kind.
    planted = max(1, round(total * 0.0015))
    slots = range(max(0, total - 1 - planted))
    dup_at = set(gen.rng.sample(slots, min(planted, len(slots))))
    conflict_at = set(gen.rng.sample(slots, min(planted, len(slots))))
    makers: dict[str, Callable[[], _Profile]] = {
        "enterprise": gen.enterprise, "individual_business": gen.individual_business,
        "cooperative": gen.cooperative, "social_org": gen.social_org,
        "public_institution": gen.public_institution, "natural_person": gen.natural_person,
    }
    kinds = [k for k, _ in KIND_SHARES]
    weights = [w for _, w in KIND_SHARES]
    done, committed, index = 1, 1, 0
    while done < total:
        planted_here = index in dup_at or index in conflict_at
        profile = makers["enterprise" if planted_here else gen.rng.choices(kinds, weights=weights)[0]]()
        gen.register(profile)
        gen.records_for(profile)
        done += 1
        if index in dup_at and done < total:
            gen.register(gen.duplicate_of(profile))
            gen.duplicates += 1
            done += 1
        if index in conflict_at:
            gen.code_conflict(profile)
            gen.conflicts += 1
        index += 1
        if done - committed >= CHUNK or done >= total:
            session.commit()
            committed = done
            if progress is not None:
                progress(done, total)
    session.commit()
    return DemoSummary(
        departments=len(gen.departments), institutions=len(gen.institutions), users=gen.created_users,
        subjects=sum(gen.kinds.values()), subjects_by_kind=dict(gen.kinds), records=sum(gen.items.values()),
        records_by_item=dict(gen.items), outcomes=dict(gen.outcomes), duplicate_code_cases=gen.duplicates,
        code_conflict_cases=gen.conflicts, seconds=round(time.perf_counter() - started, 2))
