"""Realistic demo data, fast enough for a million customers.

Names, companies and places are drawn from small pools (Chinese surnames by
frequency, given-name characters, Faker's en_US names) and combined at random,
so generation costs microseconds per row. Values are valid by construction
(real mobile prefixes, syntactically valid emails), so they skip per-value
validation and go through ``Store.bulk_insert_customers``.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import random
from decimal import Decimal
from typing import Callable

import phonenumbers

from . import search
from .search import pinyin_words
from .store import Store, to_minor

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
            "单解仇区")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰晨宇浩然子涵欣怡思远嘉怡梓轩一诺"
         "文博天佑雨桐佳琪俊杰慧敏晓东海燕春梅立新振华雪松婷婷亮鹏飞凯旭阳丹宁琳三")
CITIES = {
    "华北": ["北京", "天津", "石家庄", "太原", "呼和浩特"],
    "华东": ["上海", "杭州", "南京", "苏州", "宁波", "合肥", "济南", "青岛", "福州", "厦门"],
    "华南": ["广州", "深圳", "东莞", "佛山", "南宁", "海口"],
    "华中": ["武汉", "长沙", "郑州", "南昌"],
    "西南": ["成都", "重庆", "昆明", "贵阳"],
    "西北": ["西安", "兰州", "乌鲁木齐", "银川"],
    "东北": ["沈阳", "大连", "长春", "哈尔滨"],
    "港澳台": ["香港", "澳门", "台北"],
    "海外": ["Singapore", "London", "New York", "Tokyo"],
}
REGION_WEIGHTS = {"华北": 14, "华东": 30, "华南": 20, "华中": 10, "西南": 9, "西北": 5,
                  "东北": 6, "港澳台": 3, "海外": 3}
COMPANY_WORDS = ("星辰 华信 东方 宏达 金桥 长城 恒通 瑞丰 博远 中科 天润 盛世 启明 鼎盛 智联 海川 新元 "
                 "正泰 安和 嘉禾 联创 远航 同辉 开元 致远 德信 卓越 万达 佳美 汇通").split()
COMPANY_KINDS = ("科技 信息 电子 机械 贸易 物流 医疗器械 建设 教育 食品 化工 软件 制药 能源 咨询").split()
INDUSTRY_OF_KIND = {"科技": "it", "信息": "it", "软件": "it", "电子": "manufacturing",
                    "机械": "manufacturing", "化工": "manufacturing", "贸易": "retail", "食品": "retail",
                    "物流": "logistics", "医疗器械": "healthcare", "制药": "healthcare",
                    "建设": "construction", "教育": "education", "能源": "manufacturing",
                    "咨询": "finance"}
TITLES = ["总经理", "副总经理", "采购经理", "技术总监", "财务总监", "采购专员", "工程师", "行政主管",
          "CEO", "CTO", "Purchasing Manager", "IT Director", "Office Manager"]
DEPARTMENTS = ["采购部", "技术部", "财务部", "总经办", "行政部", "IT", "Operations"]
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                   "152", "155", "156", "157", "158", "159", "166", "176", "177", "180", "181",
                   "182", "183", "185", "186", "187", "188", "189", "199"]
AREA_CODES = {"北京": "10", "上海": "21", "广州": "20", "深圳": "755", "杭州": "571", "南京": "25",
              "成都": "28", "武汉": "27", "西安": "29", "天津": "22", "重庆": "23"}
EMAIL_DOMAINS = ["qq.com", "163.com", "126.com", "sina.com", "gmail.com", "outlook.com",
                 "foxmail.com"]
INTERESTS = ["高尔夫", "茶道", "摄影", "跑步", "钓鱼", "书法", "旅行", "红酒", "golf", "tennis"]
TAGS = ["vip", "重点", "老客户", "待回访", "潜力", "招标中", "续约"]
SUMMARIES = {
    "call": ["电话沟通需求", "电话回访满意度", "确认报价细节", "Call about renewal"],
    "visit": ["上门拜访，演示产品", "拜访采购负责人", "On-site visit with CTO"],
    "email": ["发送报价单", "发送合同草稿", "Sent product brochure"],
    "meeting": ["项目启动会", "季度业务回顾", "Quarterly business review"],
    "purchase": ["采购订单", "续购服务", "Purchase order"],
    "complaint": ["投诉交付延迟", "投诉发票错误"],
    "service": ["安装调试", "售后维修", "Support ticket"],
    "opportunity": ["新项目商机", "扩容需求", "Upsell opportunity"],
    "note": ["客户生日", "关注竞争对手动向"],
}
KIND_WEIGHTS = {"call": 30, "visit": 10, "email": 15, "meeting": 8, "purchase": 20, "complaint": 3,
                "service": 6, "opportunity": 5, "note": 3}
#: From this many customers on, demo data loads with the search triggers off.
BULK_THRESHOLD = 20_000
ROLE_CHAIN = ["decision_maker", "influencer", "champion", "buyer", "user", "gatekeeper"]


def _english_pools(rng: random.Random) -> tuple[list[str], list[str], list[str]]:
    try:
        from faker import Faker

        fake = Faker("en_US")
        fake.seed_instance(rng.randrange(1 << 30))
        first = sorted({fake.first_name() for _ in range(400)})
        last = sorted({fake.last_name() for _ in range(300)})
        companies = sorted({fake.company() for _ in range(300)})
    except ImportError:  # Faker is optional at run time
        first = ["John", "Mary", "David", "Linda", "James", "Susan", "Robert", "Karen"]
        last = ["Smith", "Johnson", "Brown", "Taylor", "Miller", "Wilson", "Moore"]
        companies = ["Acme Corp", "Globex Ltd", "Initech", "Umbrella Inc"]
    return first, last, companies


class DemoGenerator:
    def __init__(self, store: Store, seed: int | None = None):
        self.store = store
        self.rng = random.Random(seed)
        # satisfaction scores come from their own stream: the rest of the demo stays as it was
        self.score_rng = random.Random(None if seed is None else seed + 1)
        # regular buyers (a purchase every so many days), some of whom have gone quiet:
        # what the agenda's churn warnings are for; a stream of its own, so the rest of
        # a seeded demo stays as it was
        self.rhythm_rng = random.Random(None if seed is None else seed + 2)
        self.first, self.last, self.en_companies = _english_pools(self.rng)
        self.owners = ["王磊", "李娜", "张伟", "刘洋", "陈静", store.user]
        self.today = dt.date.today()
        self.regions = list(REGION_WEIGHTS)
        self.region_weights = list(REGION_WEIGHTS.values())
        self.kinds = list(KIND_WEIGHTS)
        self.kind_weights = list(KIND_WEIGHTS.values())
        self.schema_keys = set(store.schema.keys)

    def _score(self, kind: str) -> Decimal | None:
        """Half the calls and visits asked for a satisfaction score (0–10, mostly 7–9)."""
        if kind not in ("call", "visit") or self.score_rng.random() < 0.5:
            return None
        return Decimal(self.score_rng.choices(range(11), (1, 1, 1, 2, 2, 3, 5, 8, 10, 8, 5))[0])

    def _regular_purchases(self, acquired: dt.date) -> list[tuple[dt.date, Decimal]]:
        """One customer in ten buys on a rhythm (every 30–120 days, 4–8 orders); a
        third of those stopped a few intervals ago."""
        rng = self.rhythm_rng
        if rng.random() >= 0.1:
            return []
        every = rng.randrange(30, 121)
        orders = rng.randrange(4, 9)
        quiet = every * rng.choice((2, 3, 5)) if rng.random() < 0.35 else rng.randrange(every)
        last = self.today - dt.timedelta(days=quiet)
        days = [last - dt.timedelta(days=every * i + rng.randrange(-5, 6)) for i in range(orders)]
        days = [d for d in days if acquired <= d <= self.today]
        return [(d, Decimal(rng.randrange(5_000, 200_000))) for d in sorted(days)]

    def _mobile(self) -> str:
        return "+86" + self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def _landline(self, city: str) -> str | None:
        code = AREA_CODES.get(city)
        if not code:
            return None
        # every one of these cities dials eight digits after its area code (0755-8xxxxxxx),
        # the first one 2-8; a few blocks are not numbers (Beijing's 8002…: phonenumbers
        # refuses them, and so does kehu's validation), so draw again until it takes it
        for _ in range(20):
            number = "+86" + code + str(self.rng.randrange(2, 9)) + f"{self.rng.randrange(10**7):07d}"
            if phonenumbers.is_valid_number(phonenumbers.parse(number)):
                return number
        return None

    def _chinese_name(self) -> str:
        rng = self.rng
        return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))

    def customer(self, index: int) -> tuple[dict, list[dict], list[dict]]:
        """One customer with its contacts and interactions (plain dicts)."""
        rng = self.rng
        region = rng.choices(self.regions, self.region_weights)[0]
        city = rng.choice(CITIES[region])
        chinese = region != "海外" and rng.random() < 0.85
        is_company = rng.random() < 0.55
        if chinese:
            person = self._chinese_name()
            kind = rng.choice(COMPANY_KINDS)
            company = f"{city}{rng.choice(COMPANY_WORDS)}{kind}有限公司"
            login = (pinyin_words(person) or ["kehu"])[0]
        else:
            first, last = rng.choice(self.first), rng.choice(self.last)
            person = f"{first} {last}"
            company = rng.choice(self.en_companies)
            kind = rng.choice(COMPANY_KINDS)
            login = f"{first}.{last}".lower()
        acquired = self.today - dt.timedelta(days=rng.randrange(1, 3650))
        name = company if is_company else person
        row = {
            "name": name,
            "customer_type": "company" if is_company else "person",
            "gender": None if is_company else rng.choice(("male", "female")),
            "birthday": None if is_company or rng.random() < 0.5 else
            dt.date(rng.randrange(1955, 2002), rng.randrange(1, 13), rng.randrange(1, 29)),
            "external_id": f"KH{index + 1:07d}",
            "company": company,
            "department": rng.choice(DEPARTMENTS) if not is_company else None,
            "title": rng.choice(TITLES) if not is_company else None,
            "mobile": self._mobile(),
            "phone": self._landline(city) if rng.random() < 0.4 else None,
            "email": f"{login}{rng.randrange(100) if rng.random() < 0.5 else ''}@{rng.choice(EMAIL_DOMAINS)}",
            "address": f"{city}市{rng.choice(COMPANY_WORDS)}路{rng.randrange(1, 999)}号" if chinese else None,
            "city": city,
            "region": region,
            "industry": INDUSTRY_OF_KIND.get(kind, "other"),
            "source": rng.choice(("referral", "website", "exhibition", "cold_call", "ads", "social")),
            "acquired_on": acquired,
            "credit_rating": rng.choices(("AAA", "AA", "A", "BBB", "BB", "B", "C"),
                                         (5, 10, 20, 30, 20, 10, 5))[0],
            "scale": rng.choices(("large", "medium", "small", "micro"), (10, 25, 40, 25))[0],
            "grade": rng.choices(("A", "B", "C", "D"), (10, 25, 45, 20))[0],
            "stage": rng.choices(("lead", "acquisition", "growth", "maturity", "retention", "lost"),
                                 (15, 15, 25, 25, 12, 8))[0],
            "owner": rng.choice(self.owners),
            "tags": ",".join(rng.sample(TAGS, rng.choice((0, 0, 1, 2)))) or None,
            "notes": rng.choice((None, None, "年底有扩容计划", "对价格敏感", "关注售后服务",
                                 "Prefers email", "需要发票抬头变更")),
            "interests": ",".join(rng.sample(INTERESTS, rng.choice((0, 1, 2)))) or None,
            "headcount": rng.choice((20, 50, 120, 300, 800, 2500)) if is_company else None,
            "registered_capital": Decimal(rng.choice((100, 500, 1000, 5000))) * 10000 if is_company else None,
            "website": f"https://www.{login.replace('.', '')}.com" if is_company and rng.random() < 0.5 else None,
            "created_at": dt.datetime.combine(acquired, dt.time(9)) + dt.timedelta(minutes=rng.randrange(600)),
        }
        contacts = []
        if is_company and rng.random() < 0.7:
            for depth in range(rng.randrange(1, 5)):
                contacts.append({
                    "name": self._chinese_name() if chinese else f"{rng.choice(self.first)} {rng.choice(self.last)}",
                    "title": rng.choice(TITLES), "department": rng.choice(DEPARTMENTS),
                    "phone": self._mobile(), "role": ROLE_CHAIN[min(depth, len(ROLE_CHAIN) - 1)],
                    "stance": rng.choices(("supporter", "neutral", "opponent"), (5, 4, 1))[0],
                    "key_person": depth == 0, "parent": depth - 1 if depth else None,
                })
        interactions = []
        total, count, last = Decimal(0), 0, None
        for _ in range(rng.choice((0, 1, 2, 2, 3, 4))):
            kind = rng.choices(self.kinds, self.kind_weights)[0]
            day = acquired + dt.timedelta(days=rng.randrange(max(1, (self.today - acquired).days)))
            when = dt.datetime.combine(day, dt.time(rng.randrange(8, 19), rng.randrange(60)))
            amount = None
            if kind in ("purchase", "opportunity"):
                amount = Decimal(rng.randrange(500, 500_000))
            if kind == "purchase":
                total, count = total + amount, count + 1
                last = max(last, day) if last else day
            follow = None
            if kind in ("call", "visit", "meeting", "opportunity") and rng.random() < 0.3:
                follow = self.today + dt.timedelta(days=rng.randrange(-10, 30))
            interactions.append({
                "kind": kind, "occurred_at": when, "user": row["owner"],
                "summary": rng.choice(SUMMARIES[kind]), "amount": amount,
                "duration_seconds": rng.randrange(60, 1800) if kind == "call" else None,
                "next_follow_up": follow, "score": self._score(kind),
            })
        for day, amount in self._regular_purchases(acquired):
            total, count = total + amount, count + 1
            last = max(last, day) if last else day
            interactions.append({
                "kind": "purchase", "user": row["owner"], "amount": amount,
                "occurred_at": dt.datetime.combine(day, dt.time(10)),
                "summary": rng.choice(SUMMARIES["purchase"]), "duration_seconds": None,
                "next_follow_up": None, "score": None,
            })
        scored = [it for it in interactions if it["score"] is not None]
        if scored and "satisfaction" in self.schema_keys:   # the field shows the latest score
            row["satisfaction"] = max(scored, key=lambda it: it["occurred_at"])["score"]
        if count:
            row.update(purchase_total=total, purchase_count=count, last_purchase_on=last)
        return {k: v for k, v in row.items() if k in self.schema_keys or k == "created_at"}, contacts, interactions


def generate(store: Store, customers: int = 2000, *, seed: int | None = None,
             batch: int = 5000, progress: Callable[[int], None] | None = None) -> int:
    """Add ``customers`` demo customers with contacts and timelines; returns the count."""
    gen = DemoGenerator(store, seed)
    # A big load goes in with the search triggers off and one index rebuild at
    # the end; a small one keeps the triggers (a rebuild would cost more).
    loading = search.bulk_loading(store) if customers >= BULK_THRESHOLD else contextlib.nullcontext()
    with loading:
        done = _generate_rows(store, gen, customers, batch, progress)
    return done


def _generate_rows(store: Store, gen: "DemoGenerator", customers: int, batch: int,
                   progress: Callable[[int], None] | None) -> int:
    db, param = store.db, store.db.param
    contact_cols = ["customer_id", "name", "title", "department", "phone", "role", "stance",
                    "key_person", "created_at", "updated_at", "version"]
    inter_cols = ["customer_id", "kind", "occurred_at", "user", "summary", "amount",
                  "duration_seconds", "next_follow_up", "follow_up_done", "created_at",
                  "updated_at", "version", "score"]
    inter_sql = (f'INSERT INTO interaction ({", ".join(chr(34) + c + chr(34) for c in inter_cols)}) '
                 f'VALUES ({", ".join([param] * len(inter_cols))})')
    contact_sql = (f'INSERT INTO contact ({", ".join(chr(34) + c + chr(34) for c in contact_cols)}) '
                   f'VALUES ({", ".join([param] * len(contact_cols))})')
    done = 0
    while done < customers:
        n = min(batch, customers - done)
        bundle = [gen.customer(done + i) for i in range(n)]
        with db.atomic():
            store.bulk_insert_customers((b[0] for b in bundle), batch=n)
            ids = [r[0] for r in db.execute_sql(
                f"SELECT id FROM customer ORDER BY id DESC LIMIT {n}").fetchall()][::-1]
            stamp = dt.datetime.now()
            inter_rows, contact_rows = [], []
            for cid, (_, contacts, interactions) in zip(ids, bundle):
                for it in interactions:
                    amount = it["amount"] if store.is_postgres else to_minor(it["amount"], 2)
                    inter_rows.append((cid, it["kind"], it["occurred_at"], it["user"], it["summary"],
                                       amount, it["duration_seconds"], it["next_follow_up"], False,
                                       stamp, stamp, 1, it["score"]))
                for c in contacts:
                    contact_rows.append(c | {"customer_id": cid})
            cursor = db.cursor()
            if inter_rows:
                cursor.executemany(inter_sql, inter_rows)
            _insert_contacts(store, contact_sql, contact_rows, stamp)
        done += n
        if progress:
            progress(done)
    return done


def _insert_contacts(store: Store, sql: str, rows: list[dict], stamp) -> None:
    """Insert contacts, then link each to its parent (reports_to) within its customer."""
    if not rows:
        return
    cursor = store.db.cursor()
    cursor.executemany(sql, [(r["customer_id"], r["name"], r["title"], r["department"], r["phone"],
                              r["role"], r["stance"], r["key_person"], stamp, stamp, 1)
                             for r in rows])
    ids = [r[0] for r in store.db.execute_sql(
        f"SELECT id FROM contact ORDER BY id DESC LIMIT {len(rows)}").fetchall()][::-1]
    links, start = [], 0
    for i, row in enumerate(rows):
        if i and row["customer_id"] != rows[i - 1]["customer_id"]:
            start = i
        if row["parent"] is not None:
            links.append((ids[start + row["parent"]], ids[i]))
    if links:
        p = store.db.param
        cursor.executemany(f"UPDATE contact SET reports_to_id = {p} WHERE id = {p}", links)
