"""The curated part of speaker attribution: who the main actors are and how the Vietnamese press writes them.

Everything here is hand-written from general knowledge of the 2022-2026 war and peace-process coverage, not
learnt from the labelled files, so it is always on, also in cross-validation. The learnt part (an alias table
fitted on labelled records) lives in :mod:`vistance.speakers.attributor`.

Canonical spellings follow GUIDELINES §4: a person's full name in the most common Vietnamese press spelling
without title, institutions by name, capital cities as their country.
"""

from __future__ import annotations

# --------------------------------------------------------------------------- persons
# canonical name -> spellings seen in Vietnamese news. The surname alone is added automatically when no
# other actor here shares it; an initial before it ("V.Putin", "D. Peskov") is accepted by the scanner.
PERSONS: dict[str, tuple[str, ...]] = {
    # Russia
    "Vladimir Putin": ("Vladimir Vladimirovich Putin", "Vladimir Putin", "Vladimir Pu-tin", "Putin"),
    "Dmitry Peskov": ("Dmitry Peskov", "Dmitri Peskov", "Dmitriy Peskov", "Peskov"),
    "Sergey Lavrov": ("Sergey Lavrov", "Sergei Lavrov", "Serguei Lavrov", "Lavrov"),
    "Yury Ushakov": ("Yury Ushakov", "Yuri Ushakov", "Yuriy Ushakov", "Ushakov"),
    "Maria Zakharova": ("Maria Zakharova", "Mariya Zakharova", "Zakharova"),
    "Dmitry Medvedev": ("Dmitry Medvedev", "Dmitri Medvedev", "Medvedev"),
    "Kirill Dmitriev": ("Kirill Dmitriev", "Kirill Dmitriyev", "Dmitriev"),
    "Sergey Ryabkov": ("Sergey Ryabkov", "Sergei Ryabkov", "Ryabkov"),
    "Vladimir Medinsky": ("Vladimir Medinsky", "Medinsky"),
    "Sergey Shoigu": ("Sergey Shoigu", "Sergei Shoigu", "Shoigu"),
    "Andrei Belousov": ("Andrei Belousov", "Andrey Belousov", "Belousov"),
    "Valery Gerasimov": ("Valery Gerasimov", "Valeri Gerasimov", "Gerasimov"),
    "Vasily Nebenzya": ("Vasily Nebenzya", "Vassily Nebenzia", "Vasily Nebenzia", "Nebenzya", "Nebenzia"),
    "Igor Konashenkov": ("Igor Konashenkov", "Konashenkov"),
    "Ramzan Kadyrov": ("Ramzan Kadyrov", "Kadyrov"),
    "Yevgeny Prigozhin": ("Yevgeny Prigozhin", "Yevgeniy Prigozhin", "Evgeny Prigozhin", "Yevgeny Prigozin",
                          "Prigozhin"),
    "Alexander Lukashenko": ("Alexander Lukashenko", "Aleksandr Lukashenko", "Lukashenko"),
    # Ukraine
    "Volodymyr Zelensky": ("Volodymyr Zelensky", "Vladimir Zelensky", "Volodymyr Zelenskiy", "Volodymyr Zelenskyy",
                           "Zelensky", "Zelenskiy", "Zelenskyy", "Zelenski"),
    "Dmytro Kuleba": ("Dmytro Kuleba", "Dmitry Kuleba", "Kuleba"),
    "Andrii Sybiha": ("Andrii Sybiha", "Andriy Sybiha", "Sybiha"),
    "Andriy Yermak": ("Andriy Yermak", "Andrii Yermak", "Andrei Yermak"),
    "Rustem Umerov": ("Rustem Umerov", "Umerov"),
    "Oleksii Reznikov": ("Oleksii Reznikov", "Oleksiy Reznikov", "Reznikov"),
    "Mykhailo Podolyak": ("Mykhailo Podolyak", "Mikhail Podolyak", "Podolyak"),
    "Denys Shmyhal": ("Denys Shmyhal", "Shmyhal"),
    "Yulia Svyrydenko": ("Yulia Svyrydenko", "Svyrydenko"),
    "Kyrylo Budanov": ("Kyrylo Budanov", "Budanov"),
    "Oleksandr Syrskyi": ("Oleksandr Syrskyi", "Oleksandr Syrsky", "Syrskyi", "Syrsky"),
    "Valeriy Zaluzhnyi": ("Valeriy Zaluzhnyi", "Valery Zaluzhny", "Valerii Zaluzhnyi", "Valeriy Zaluzhny", "Zaluzhnyi",
                          "Zaluzhny"),
    # United States
    "Donald Trump": ("Donald John Trump", "Donald Trump", "Trump"),
    "Joe Biden": ("Joe Biden", "Biden"),
    "JD Vance": ("JD Vance", "J.D. Vance", "J.D Vance", "James David Vance", "Vance"),
    "Marco Rubio": ("Marco Rubio", "Rubio"),
    "Steve Witkoff": ("Steve Witkoff", "Steven Witkoff", "Witkoff"),
    "Keith Kellogg": ("Keith Kellogg", "Kellogg"),
    "Jared Kushner": ("Jared Kushner", "Kushner"),
    "Pete Hegseth": ("Pete Hegseth", "Hegseth"),
    "Dan Driscoll": ("Dan Driscoll", "Daniel Driscoll", "Driscoll"),
    "Karoline Leavitt": ("Karoline Leavitt", "Leavitt"),
    "Mike Waltz": ("Mike Waltz", "Waltz"),
    "Scott Bessent": ("Scott Bessent", "Bessent"),
    "Antony Blinken": ("Antony Blinken", "Anthony Blinken", "Blinken"),
    "Lloyd Austin": ("Lloyd Austin",),
    "Jake Sullivan": ("Jake Sullivan",),
    "Kamala Harris": ("Kamala Harris",),
    "Janet Yellen": ("Janet Yellen", "Yellen"),
    "Lindsey Graham": ("Lindsey Graham",),
    # Europe, NATO, others
    "Emmanuel Macron": ("Emmanuel Macron", "Macron"),
    "Keir Starmer": ("Keir Starmer", "Starmer"),
    "Boris Johnson": ("Boris Johnson",),
    "Rishi Sunak": ("Rishi Sunak", "Sunak"),
    "Friedrich Merz": ("Friedrich Merz", "Merz"),
    "Olaf Scholz": ("Olaf Scholz", "Scholz"),
    "Giorgia Meloni": ("Giorgia Meloni", "Meloni"),
    "Ursula von der Leyen": ("Ursula von der Leyen", "von der Leyen", "Von der Leyen"),
    "Kaja Kallas": ("Kaja Kallas", "Kallas"),
    "Josep Borrell": ("Josep Borrell", "Borrell"),
    "António Costa": ("António Costa", "Antonio Costa"),
    "Charles Michel": ("Charles Michel",),
    "Mark Rutte": ("Mark Rutte", "Rutte"),
    "Jens Stoltenberg": ("Jens Stoltenberg", "Stoltenberg"),
    "Viktor Orban": ("Viktor Orban", "Viktor Orbán", "Orban", "Orbán"),
    "Robert Fico": ("Robert Fico", "Fico"),
    "Recep Tayyip Erdogan": ("Recep Tayyip Erdogan", "Recep Tayyip Erdoğan", "Tayyip Erdogan", "Erdogan", "Erdoğan"),
    "Hakan Fidan": ("Hakan Fidan", "Fidan"),
    "Alexander Stubb": ("Alexander Stubb", "Stubb"),
    "Andrzej Duda": ("Andrzej Duda", "Duda"),
    "Karol Nawrocki": ("Karol Nawrocki", "Nawrocki"),
    "Donald Tusk": ("Donald Tusk", "Tusk"),
    "Mette Frederiksen": ("Mette Frederiksen", "Frederiksen"),
    "António Guterres": ("António Guterres", "Antonio Guterres", "Guterres"),
    "Tập Cận Bình": ("Tập Cận Bình", "Xi Jinping", "ông Tập", "Ông Tập"),
    "Vương Nghị": ("Vương Nghị", "Wang Yi", "ông Vương", "Ông Vương"),
    "Narendra Modi": ("Narendra Modi", "Modi"),
    "Mohammed bin Salman": ("Mohammed bin Salman",),
    "Rafael Grossi": ("Rafael Grossi", "Grossi"),
}

# Informed sources ("Giới thạo tin cho hay ...") are read like a medium: the actor they report is the speaker,
# and without one they are (R24).
INFORMED_SOURCES = ("Giới thạo tin", "giới thạo tin", "nguồn thạo tin", "các nguồn thạo tin", "nguồn tin thạo tin",
                    "những người thạo tin", "người thạo tin")

# Nationality of the curated persons, for descriptions that name them by country ("quan chức Nga").
NATIONALITY: dict[str, str] = {
    **dict.fromkeys(("Vladimir Putin", "Dmitry Peskov", "Sergey Lavrov", "Yury Ushakov", "Maria Zakharova",
                     "Dmitry Medvedev", "Kirill Dmitriev", "Sergey Ryabkov", "Vladimir Medinsky", "Sergey Shoigu",
                     "Andrei Belousov", "Valery Gerasimov", "Vasily Nebenzya", "Igor Konashenkov", "Ramzan Kadyrov",
                     "Yevgeny Prigozhin"), "Nga"),
    **dict.fromkeys(("Volodymyr Zelensky", "Dmytro Kuleba", "Andrii Sybiha", "Andriy Yermak", "Rustem Umerov",
                     "Oleksii Reznikov", "Mykhailo Podolyak", "Denys Shmyhal", "Yulia Svyrydenko", "Kyrylo Budanov",
                     "Oleksandr Syrskyi", "Valeriy Zaluzhnyi"), "Ukraine"),
    **dict.fromkeys(("Donald Trump", "Joe Biden", "JD Vance", "Marco Rubio", "Steve Witkoff", "Keith Kellogg",
                     "Jared Kushner", "Pete Hegseth", "Dan Driscoll", "Karoline Leavitt", "Mike Waltz", "Scott Bessent",
                     "Antony Blinken", "Lloyd Austin", "Jake Sullivan", "Kamala Harris", "Janet Yellen",
                     "Lindsey Graham"), "Mỹ"),
    "Alexander Lukashenko": "Belarus", "Emmanuel Macron": "Pháp", "Keir Starmer": "Anh", "Boris Johnson": "Anh",
    "Rishi Sunak": "Anh", "Friedrich Merz": "Đức", "Olaf Scholz": "Đức", "Giorgia Meloni": "Italy",
    "Viktor Orban": "Hungary", "Robert Fico": "Slovakia", "Recep Tayyip Erdogan": "Thổ Nhĩ Kỳ",
    "Hakan Fidan": "Thổ Nhĩ Kỳ", "Alexander Stubb": "Phần Lan", "Andrzej Duda": "Ba Lan", "Karol Nawrocki": "Ba Lan",
    "Donald Tusk": "Ba Lan", "Mette Frederiksen": "Đan Mạch", "Tập Cận Bình": "Trung Quốc",
    "Vương Nghị": "Trung Quốc", "Narendra Modi": "Ấn Độ",
}
# Heads of state and government: "quan chức X" (an official) never stands for one of them.
LEADERS = frozenset(("Vladimir Putin", "Volodymyr Zelensky", "Donald Trump", "Joe Biden", "Emmanuel Macron",
                     "Keir Starmer", "Boris Johnson", "Rishi Sunak", "Friedrich Merz", "Olaf Scholz", "Giorgia Meloni",
                     "Viktor Orban", "Robert Fico", "Recep Tayyip Erdogan", "Alexander Stubb", "Andrzej Duda",
                     "Karol Nawrocki", "Donald Tusk", "Mette Frederiksen", "Tập Cận Bình", "Narendra Modi",
                     "Alexander Lukashenko"))
# Institutions that stand for a country in a description ("Cố vấn Điện Kremlin").
INSTITUTION_COUNTRY = {"Điện Kremlin": "Nga", "Nhà Trắng": "Mỹ", "Lầu Năm Góc": "Mỹ"}

# --------------------------------------------------------------------------- titles
# A title resolves to its holder at the article's date (GUIDELINES §4: "titles resolve to the person they
# denote"). Holders are (first day in office, name), oldest first; an undated article gets the newest holder,
# because undated input is current news. Patterns are matched case-insensitively.
_US_PRESIDENT = ((None, "Joe Biden"), ("2025-01-20", "Donald Trump"))
TITLES: tuple[tuple[str, tuple[tuple[str | None, str], ...]], ...] = (
    ((r"(?:tổng thống|nhà lãnh đạo|người đứng đầu|lãnh đạo|ông chủ) (?:nga|liên bang nga|điện kremlin)"
     r"|chủ nhân điện kremlin"), ((None, "Vladimir Putin"),)),
    ((r"(?:tổng thống|nhà lãnh đạo|người đứng đầu|lãnh đạo) (?:mỹ|hoa kỳ|nhà trắng)"
     r"|(?:chủ nhân|ông chủ) nhà trắng"), _US_PRESIDENT),
    (r"(?:tổng thống|nhà lãnh đạo|người đứng đầu|lãnh đạo) (?:ukraine|ukraina)", ((None, "Volodymyr Zelensky"),)),
    (r"(?:người phát ngôn|phát ngôn viên|thư ký báo chí) (?:của )?(?:điện kremlin|tổng thống nga)",
     ((None, "Dmitry Peskov"),)),
    (r"(?:người phát ngôn|phát ngôn viên) (?:của )?bộ ngoại giao nga", ((None, "Maria Zakharova"),)),
    (r"(?:người phát ngôn|phát ngôn viên|thư ký báo chí) (?:của )?nhà trắng",
     ((None, "Jen Psaki"), ("2022-05-13", "Karine Jean-Pierre"), ("2025-01-20", "Karoline Leavitt"))),
    (r"(?:người phát ngôn|phát ngôn viên) (?:của )?bộ quốc phòng nga", ((None, "Igor Konashenkov"),)),
    (r"ngoại trưởng (?:nga|liên bang nga)|bộ trưởng ngoại giao nga", ((None, "Sergey Lavrov"),)),
    (r"ngoại trưởng (?:mỹ|hoa kỳ)|bộ trưởng ngoại giao mỹ", ((None, "Antony Blinken"), ("2025-01-21", "Marco Rubio"))),
    (r"ngoại trưởng (?:ukraine|ukraina)|bộ trưởng ngoại giao ukraine",
     ((None, "Dmytro Kuleba"), ("2024-09-05", "Andrii Sybiha"))),
    (r"(?:trợ lý|cố vấn)(?: đối ngoại| chính sách đối ngoại)? (?:của )?(?:điện kremlin|tổng thống nga)",
     ((None, "Yury Ushakov"),)),
    (r"phó chủ tịch hội đồng an ninh nga|cựu tổng thống nga", ((None, "Dmitry Medvedev"),)),
    ((r"(?:trùm|ông chủ|nhà sáng lập|người sáng lập|lãnh đạo|người đứng đầu) (?:tập đoàn |công ty quân sự tư nhân )?"
     r"wagner"), ((None, "Yevgeny Prigozhin"),)),
    (r"đặc phái viên (?:của )?(?:tổng thống nga|điện kremlin)|đặc phái viên nga", ((None, "Kirill Dmitriev"),)),
    # "Đặc phái viên Mỹ" alone may be Witkoff or Kellogg: left to the article.
    (r"đặc (?:phái viên|sứ) (?:của )?(?:tổng thống mỹ|nhà trắng|ông trump)(?! về ukraine)",
     ((None, "Steve Witkoff"),)),
    (r"đặc (?:phái viên|sứ) (?:của )?mỹ về ukraine", ((None, "Keith Kellogg"),)),
    (r"phó tổng thống (?:mỹ|hoa kỳ)", ((None, "Kamala Harris"), ("2025-01-20", "JD Vance"))),
    (r"bộ trưởng quốc phòng (?:mỹ|hoa kỳ)", ((None, "Lloyd Austin"), ("2025-01-25", "Pete Hegseth"))),
    (r"bộ trưởng quốc phòng nga", ((None, "Sergey Shoigu"), ("2024-05-14", "Andrei Belousov"))),
    (r"tổng tư lệnh (?:các lực lượng vũ trang |lực lượng vũ trang |quân đội )?(?:ukraine|ukraina)",
     ((None, "Valeriy Zaluzhnyi"), ("2024-02-08", "Oleksandr Syrskyi"))),
    (r"bộ trưởng quốc phòng (?:ukraine|ukraina)",
     ((None, "Oleksii Reznikov"), ("2023-09-06", "Rustem Umerov"), ("2025-07-17", "Denys Shmyhal"))),
    (r"chánh văn phòng (?:của )?tổng thống (?:ukraine|ukraina)", ((None, "Andriy Yermak"),)),
    (r"tổng thống pháp|nhà lãnh đạo pháp", ((None, "Emmanuel Macron"),)),
    (r"thủ tướng anh|nhà lãnh đạo anh",
     ((None, "Boris Johnson"), ("2022-09-06", "Liz Truss"), ("2022-10-25", "Rishi Sunak"),
      ("2024-07-05", "Keir Starmer"))),
    (r"thủ tướng đức|nhà lãnh đạo đức", ((None, "Olaf Scholz"), ("2025-05-06", "Friedrich Merz"))),
    (r"thủ tướng (?:italy|ý)", ((None, "Mario Draghi"), ("2022-10-22", "Giorgia Meloni"))),
    (r"thủ tướng hungary", ((None, "Viktor Orban"),)),
    (r"thủ tướng slovakia", ((None, "Robert Fico"),)),
    (r"tổng thống thổ nhĩ kỳ", ((None, "Recep Tayyip Erdogan"),)),
    (r"tổng thống phần lan", ((None, "Sauli Niinistö"), ("2024-03-01", "Alexander Stubb"))),
    (r"tổng thống ba lan", ((None, "Andrzej Duda"), ("2025-08-06", "Karol Nawrocki"))),
    (r"tổng thống belarus", ((None, "Alexander Lukashenko"),)),
    (r"chủ tịch (?:ủy ban châu âu|ủy ban chấu âu|ec|uỷ ban châu âu)", ((None, "Ursula von der Leyen"),)),
    (r"(?:đại diện cấp cao|người đứng đầu chính sách đối ngoại) (?:của )?(?:eu|liên minh châu âu)",
     ((None, "Josep Borrell"), ("2024-12-01", "Kaja Kallas"))),
    (r"chủ tịch hội đồng châu âu", ((None, "Charles Michel"), ("2024-12-01", "António Costa"))),
    (r"tổng thư ký (?:nato|liên minh quân sự)", ((None, "Jens Stoltenberg"), ("2024-10-01", "Mark Rutte"))),
    (r"tổng thư ký (?:liên hợp quốc|liên hiệp quốc|lhq)", ((None, "António Guterres"),)),
    (r"chủ tịch trung quốc", ((None, "Tập Cận Bình"),)),
    (r"ngoại trưởng trung quốc", ((None, "Vương Nghị"),)),
    (r"thủ tướng ấn độ", ((None, "Narendra Modi"),)),
    (r"tổng giám đốc iaea|tổng giám đốc cơ quan năng lượng nguyên tử quốc tế", ((None, "Rafael Grossi"),)),
)

# Words that head a title or a description of a person ("Ngoại trưởng", "Thượng tướng", "chuyên gia"). A
# capitalised name right after one of these is a person; without a name the title is resolved in context.
TITLE_HEADS = (
    "phó tổng thống", "tổng thống", "phó thủ tướng", "thủ tướng", "ngoại trưởng", "thứ trưởng ngoại giao",
    "cục phó", "cục trưởng", "phó cục trưởng",
    "thứ trưởng", "bộ trưởng", "người phát ngôn", "phát ngôn viên", "thư ký báo chí", "trợ lý", "cố vấn",
    "đặc phái viên", "đặc sứ", "đại sứ", "đại biện", "phó chủ tịch", "chủ tịch", "tổng thư ký", "chánh văn phòng",
    "trưởng đoàn đàm phán", "trưởng phái đoàn", "trưởng đoàn", "thượng nghị sĩ", "hạ nghị sĩ", "nghị sĩ",
    "đại tướng", "thượng tướng", "trung tướng", "thiếu tướng", "tướng", "đại tá", "thượng tá", "trung tá",
    "thiếu tá", "đại úy", "trung sĩ", "binh sĩ", "thị trưởng", "tỉnh trưởng", "thống đốc", "giáo sư", "tiến sĩ",
    "chuyên gia", "nhà phân tích", "nhà báo", "phóng viên", "tổng công tố", "công tố viên", "chỉ huy",
    "tổng tư lệnh", "tư lệnh", "tổng tham mưu trưởng", "nhà lãnh đạo", "lãnh đạo", "người đứng đầu",
    "tổng giám đốc", "phó giám đốc", "giám đốc", "nhà sử học", "nhà nghiên cứu", "học giả", "nhà ngoại giao",
    "quan chức",
    "nhà khoa học", "luật sư", "thẩm phán", "chủ nhân", "ông chủ", "cựu",
)

# Titles of a leader: in "Trợ lý Tổng thống Nga Vladimir Putin" the name belongs to the inner title.
BOSS_HEADS = ("tổng thống", "phó tổng thống", "thủ tướng", "ngoại trưởng", "bộ trưởng", "chủ tịch", "nhà lãnh đạo",
              "lãnh đạo", "người đứng đầu", "tổng thư ký", "quốc vương", "vua")

# --------------------------------------------------------------------------- institutions, media, countries
# canonical -> spellings (matched case-insensitively unless all capitals, e.g. an acronym).
INSTITUTIONS: dict[str, tuple[str, ...]] = {
    "Điện Kremlin": ("Điện Kremlin", "Kremlin"),
    "Nhà Trắng": ("Nhà Trắng",),
    "Lầu Năm Góc": ("Lầu Năm Góc", "Pentagon"),
    "NATO": ("NATO", "Tổ chức Hiệp ước Bắc Đại Tây Dương", "khối quân sự NATO", "liên minh NATO"),
    "EU": ("EU", "Liên minh châu Âu", "Liên minh Châu Âu", "Liên minh EU"),
    "Ủy ban châu Âu": ("Ủy ban châu Âu", "Uỷ ban châu Âu", "EC"),
    "Hội đồng châu Âu": ("Hội đồng châu Âu",),
    "Nghị viện châu Âu": ("Nghị viện châu Âu",),
    "Liên Hợp Quốc": ("Liên Hợp Quốc", "Liên hợp quốc", "Liên Hiệp Quốc", "Liên hiệp quốc", "LHQ", "UN"),
    "Hội đồng Bảo an": ("Hội đồng Bảo an Liên Hợp Quốc", "Hội đồng Bảo an LHQ", "Hội đồng Bảo an", "HĐBA"),
    "G7": ("G7", "Nhóm G7"),
    "IAEA": ("IAEA", "Cơ quan Năng lượng Nguyên tử Quốc tế"),
    "IEA": ("IEA", "Cơ quan Năng lượng Quốc tế"),
    "WHO": ("WHO", "Tổ chức Y tế Thế giới", "Tổ chức Y tế thế giới"),
    "Bộ Ngoại giao Nga": ("Bộ Ngoại giao Nga",),
    "Bộ Quốc phòng Nga": ("Bộ Quốc phòng Nga",),
    "Bộ Ngoại giao Mỹ": ("Bộ Ngoại giao Mỹ",),
    "Bộ Ngoại giao Ukraine": ("Bộ Ngoại giao Ukraine",),
    "Bộ Quốc phòng Ukraine": ("Bộ Quốc phòng Ukraine",),
    "Bộ Tổng tham mưu Ukraine": ("Bộ Tổng tham mưu Ukraine", "Bộ Tổng Tham mưu Ukraine"),
    "Quân đội Nga": ("Quân đội Nga",),
    "Quân đội Ukraine": ("Quân đội Ukraine",),
    "Wagner": ("Tập đoàn Wagner", "Wagner"),
    "Cơ quan An ninh Ukraine": ("Cơ quan An ninh Ukraine", "Cơ quan An ninh Quốc gia Ukraine", "An ninh Ukraine",
                                "SBU"),
    # R28: the UK defence-intelligence updates are the ministry's, also where the text says "Quân đội Anh".
    "Bộ Quốc phòng Anh": ("Bộ Quốc phòng Anh", "Quân đội Anh"),
}

# A media outlet is the speaker only when the assessment is its own (§4): "Theo Bloomberg, ... Trump cho
# biết" is Trump's claim, so outlets lose to any later actor with a cue.
MEDIA: dict[str, tuple[str, ...]] = {
    name: (name, *extra) for name, extra in {
        "Reuters": ("Hãng tin Reuters", "hãng Reuters"), "AFP": ("Hãng tin AFP", "hãng AFP"), "AP": ("Hãng tin AP",),
        "Bloomberg": (), "Axios": (), "CNN": (), "BBC": (), "TASS": ("Tass", "hãng thông tấn TASS"),
        "RIA Novosti": ("RIA",), "Sputnik": ("Đài Sputnik",), "Interfax": (), "Al Jazeera": (), "RT": (),
        "New York Times": ("The New York Times", "NYT"), "Washington Post": ("The Washington Post",),
        "Wall Street Journal": ("The Wall Street Journal", "WSJ"), "Financial Times": ("FT",),
        "The Guardian": ("Guardian",), "The Times": (), "The Telegraph": (), "Politico": (), "Fox News": (),
        "NBC News": ("NBC",), "CBS News": ("CBS",), "ABC News": (), "The Kyiv Independent": ("Kyiv Independent",),
        "Ukrainska Pravda": (), "Le Monde": (), "Le Figaro": (), "Libération": (), "Les Echos": (),
        "GB News": (), "Izvestia": (), "Kommersant": (), "Newsweek": (), "The Economist": (), "VOA": (),
        "Zing": (), "VnExpress": (), "Tuổi Trẻ": (), "Thanh Niên": (), "Dân Trí": (), "VietTimes": (),
        "TTXVN": ("Thông tấn xã Việt Nam",), "VTV": (), "QĐND": ("Báo Quân đội nhân dân",), "Topwar": ("Topwar.ru",),
        "South Front": (), "Yonhap": (), "Xinhua": ("Tân Hoa Xã",), "Anadolu": (),
    }.items()
}

# Capitalised names that are never speakers: regions and cities that follow titles ("Nhà lãnh đạo Chechnya",
# "tỉnh trưởng Sumy": part of the title), and weapon systems ("Tổ hợp Patriot").
NON_ACTORS = (
    "Chechnya", "Crimea", "Donbass", "Donbas", "Donetsk", "Lugansk", "Luhansk", "Kharkiv", "Kharkov", "Sumy",
    "Mariupol", "Zaporizhzhia", "Zaporizhia", "Kherson", "Odessa", "Odesa", "Lviv", "Dnipro", "Belgorod", "Kursk",
    "Bucha", "Irpin", "Chernihiv", "Mykolaiv", "Pokrovsk", "Bakhmut", "Avdiivka", "Alaska", "Anchorage", "Istanbul",
    "Geneva", "Riyadh", "Jeddah", "Abu Dhabi", "Brussels", "Munich", "Davos", "Tajikistan", "Sochi", "Vasylkiv",
    "DPR", "LPR", "Transnistria", "Gaza", "Biển Đen", "Lugansk", "Bakhmut", "Kiev", "Kyiv",
    "Patriot", "HIMARS", "ATACMS", "Tomahawk", "Leopard", "Abrams", "Storm Shadow", "Taurus", "Oreshnik", "Kinzhal",
    "Iskander", "Kalibr", "Sarmat", "Shahed", "Geran", "Bayraktar", "Javelin", "Stinger", "NASAMS", "IRIS-T",
    "Starlink", "Buk", "Tornado", "Lancet", "Krasnopol", "Excalibur", "Gripen", "Mirage", "Rafale", "Challenger",
    "UAV", "Drone", "Mach",
    # platforms: a post on them is its author's ("kênh Telegram của X" -> X)
    "Telegram", "Twitter", "Facebook", "Instagram", "YouTube", "Youtube", "TikTok", "WhatsApp", "Truth Social", "VKontakte",
)
# Words for a place or a front: a capitalised name after one is a location, not a speaker ("thành phố Soledar").
PLACE_WORDS = ("thành phố", "tỉnh", "làng", "thị trấn", "vùng", "khu vực", "quận", "huyện", "bang", "mặt trận",
               "sân bay", "cảng", "nhà máy", "thủ đô", "bán đảo", "đảo", "sông", "xã", "hướng", "khu", "tập trận")

# Vietnamese country names (canonical first); capital-city metonyms map to the country (§4).
COUNTRIES: dict[str, tuple[str, ...]] = {
    "Nga": ("Nga", "Liên bang Nga", "nước Nga", "người Nga", "phía Nga", "chính phủ Nga", "chính quyền Nga", "Moscow",
            "Moskva", "Matxcơva", "Mátxcơva", "MATXCƠVA", "Mát-xcơ-va"),
    "Mỹ": ("Mỹ", "Hoa Kỳ", "nước Mỹ", "người Mỹ", "phía Mỹ", "chính phủ Mỹ", "chính quyền Mỹ", "Washington"),
    "Ukraine": ("Ukraine", "Ukraina", "Ucraina", "U-crai-na", "người Ukraine", "phía Ukraine", "chính phủ Ukraine", "chính quyền Ukraine",
                "Kiev", "Kyiv", "chính quyền Kiev", "chính phủ Kiev"),
    "Anh": ("Vương quốc Anh", "Anh", "London"),
    "Pháp": ("Pháp", "Paris"),
    "Đức": ("Đức", "Berlin"),
    "Trung Quốc": ("Trung Quốc", "Bắc Kinh"),
    "Ba Lan": ("Ba Lan", "Warsaw", "Vácsava"),
    "Thổ Nhĩ Kỳ": ("Thổ Nhĩ Kỳ", "Ankara"),
    "Hungary": ("Hungary", "Budapest"),
    "Belarus": ("Belarus", "Minsk"),
    "Ấn Độ": ("Ấn Độ", "New Delhi"),
    "Nhật Bản": ("Nhật Bản", "Tokyo"),
    "Hàn Quốc": ("Hàn Quốc", "Seoul"),
    "Triều Tiên": ("Triều Tiên", "Bình Nhưỡng"),
    "Iran": ("Iran", "Tehran"),
    "Israel": ("Israel",),
    "Italy": ("Italy", "Ý", "Rome"),
    "Phần Lan": ("Phần Lan", "Helsinki"),
    "Thụy Điển": ("Thụy Điển",),
    "Estonia": ("Estonia",),
    "Latvia": ("Latvia",),
    "Litva": ("Litva", "Lithuania"),
    "Romania": ("Romania",),
    "Moldova": ("Moldova",),
    "Slovakia": ("Slovakia",),
    "Séc": ("CH Séc", "Cộng hòa Séc", "Séc", "Czech"),
    "Canada": ("Canada", "Ottawa"),
    "Australia": ("Australia", "Úc"),
    "Qatar": ("Qatar",),
    "Saudi Arabia": ("Saudi Arabia", "Ả Rập Xê Út", "Arab Saudi"),
    "UAE": ("UAE", "Các Tiểu vương quốc Ả Rập Thống nhất"),
    "Việt Nam": ("Việt Nam", "Hà Nội"),
    "Kazakhstan": ("Kazakhstan",),
    "Serbia": ("Serbia",),
    "Gruzia": ("Gruzia", "Georgia"),
    "Vatican": ("Vatican", "Tòa Thánh"),
    "Phương Tây": ("phương Tây", "Phương Tây", "các nước phương Tây"),
    "Châu Âu": ("châu Âu", "Châu Âu", "các nước châu Âu"),
}

# --------------------------------------------------------------------------- groups and pronouns
# "Các quan chức Nga" -> "Quan chức Nga" (§4): a determiner marks an unnamed group; the group noun keeps its
# modifiers. Without a determiner "quan chức Nga" is a description of one person, resolved in context.
GROUP_DETERMINERS = ("các", "nhiều", "một số", "một vài", "vài", "những", "một", "giới", "hàng loạt", "đa số")
GROUP_NOUNS = (
    "quan chức", "chức", "chuyên gia", "nhà phân tích", "phân tích", "nhà quan sát", "quan sát", "nhà ngoại giao",
    "nhà lập pháp", "nghị sĩ", "lãnh đạo", "nhà lãnh đạo", "nguồn tin", "người dân", "cư dân", "binh sĩ",
    "tình nguyện viên", "nhà báo", "phóng viên", "truyền thông", "báo chí", "nhà nghiên cứu", "học giả",
    "quân nhân", "nhân chứng", "đồng minh", "nước", "quốc gia", "nhà đàm phán", "đại diện", "nhà khoa học",
    "người ủng hộ", "người biểu tình", "nhà hoạt động", "giới chuyên gia", "dư luận", "blogger",
)
# Nouns that name a collective even without a determiner ("dẫn lời người dân địa phương").
GROUP_ONLY = ("người dân", "cư dân", "dư luận", "truyền thông", "báo chí", "giới chức", "giới phân tích",
              "giới quan sát", "giới chuyên gia", "nhân chứng")
GROUP_RENAME = {"chức": "quan chức", "giới chức": "quan chức", "phân tích": "giới phân tích",
                "quan sát": "giới quan sát", "nước": "các nước"}
# Determiners of several people: with one, a title head is a group too ("Các chỉ huy quân đội Ukraine").
PLURAL_DETERMINERS = frozenset(("các", "nhiều", "một số", "một vài", "vài", "những", "hàng loạt", "đa số"))
# Rank and anonymity qualifiers, dropped from unnamed speakers (R27: "một quan chức Mỹ giấu tên" -> "Quan chức Mỹ").
QUALIFIERS = ("giấu tên", "cấp cao", "không nêu tên", "ẩn danh", "không muốn nêu tên", "đề nghị giấu tên")

# Personal pronouns and demonstrative descriptions that take the actor of the neighbouring sentence (§1.3).
PRONOUNS = (
    "ông ấy", "bà ấy", "ông ta", "bà ta", "người này", "vị này", "quan chức này", "nhà lãnh đạo này",
    "chính trị gia này", "người đứng đầu này", "ông", "bà", "cô", "anh", "chị", "họ", "ngài",
)
# Honorifics before a name ("ông Ushakov"); dropped from the normalised name.
HONORIFICS = ("ông", "bà", "cô", "anh", "chị", "ngài", "thầy")

# Words introducing an interview or a first-person account: the person beside them is the article's voice.
INTERVIEW_CUES = ("phỏng vấn", "trò chuyện với", "trao đổi với", "cuộc trao đổi", "chia sẻ với", "trả lời phỏng vấn",
                  "tâm sự", "kể với")

# "cả hai bên ca ngợi ..." (R3): the two parties come from the article.
BOTH_SIDES = ("cả hai bên", "hai bên", "cả hai nước", "hai nước", "cả hai nhà lãnh đạo", "hai nhà lãnh đạo",
              "cả hai lãnh đạo", "hai lãnh đạo", "hai nguyên thủ", "hai tổng thống", "cả hai phía", "hai phía")

# --------------------------------------------------------------------------- attribution cues
# Speech and attitude verbs (GUIDELINES §2 plus the common synonyms in news). Compounds that are events or
# nouns ("nói chuyện", "gọi điện") are ruled out in mentions._GUARDS.
CUES = (
    "cho biết thêm", "cho biết", "cho hay", "nói thêm", "nói rằng", "nói", "tuyên bố", "khẳng định", "nhấn mạnh",
    "cho rằng", "nhận định", "đánh giá", "lưu ý", "thừa nhận", "cáo buộc", "bày tỏ", "ca ngợi", "bác bỏ",
    "phủ nhận", "ủng hộ", "phản đối", "ám chỉ", "cảnh báo", "kêu gọi", "đề nghị", "đề xuất", "yêu cầu",
    "thông báo", "xác nhận", "tiết lộ", "chia sẻ", "kể lại", "viết", "nêu rõ", "nêu", "giải thích", "bình luận",
    "trả lời", "mô tả", "gọi", "chỉ trích", "lên án", "tố cáo", "hối thúc", "thúc giục", "tin rằng",
    "tin tưởng", "hy vọng", "hi vọng", "mong muốn", "muốn", "lo ngại", "quan ngại", "dự đoán", "dự báo",
    "ước tính", "phát biểu", "nhận xét", "lập luận", "đưa tin", "cam kết", "đe dọa", "từ chối", "chấp nhận",
    "đồng ý", "nhất trí", "để ngỏ", "phát đi tín hiệu", "đề cập", "nhắc lại", "lặp lại", "chỉ ra", "khuyến cáo",
    "trấn an", "tiên đoán", "phàn nàn", "hoan nghênh", "chào đón", "coi", "xem", "nhận thấy", "thông tin",
    "lên tiếng", "khuyên", "ra lệnh", "ra tuyên bố", "công bố", "báo cáo", "dẫn lời", "quả quyết", "nghi ngờ",
    "thất vọng", "kể", "đáp", "hứa", "đề cao", "khen ngợi", "bác", "phê phán", "hoài nghi", "gợi ý", "đồng tình",
    "tán thành", "phản bác", "cảnh cáo", "dọa", "hứa hẹn", "kỳ vọng", "lạc quan", "bi quan", "dự kiến", "nhắn nhủ",
    "gửi thông điệp", "ra điều kiện", "đặt điều kiện", "nêu điều kiện", "đòi", "đòi hỏi", "chúc mừng", "cảm ơn",
    "phản ứng", "đáp trả", "phản pháo", "tiết lộ", "nói đùa", "tố", "ghi nhận", "đón nhận", "lo âu", "cân nhắc",
    "tin", "đăng", "nhớ lại", "hồi tưởng",
)
# Fronted adverbials: a comma segment that opens with one of these is circumstance, not the subject
# ("Trong cuộc họp báo với ... Olaf Scholz, ông Putin nói").
ADVERBIAL_OPENERS = (
    "trong", "tại", "sau", "khi", "hôm", "ngày", "về", "với", "đáp lại", "trả lời", "phát biểu", "nói về",
    "tham dự", "mặc dù", "dù", "bên cạnh", "trước", "đối với", "nhân", "giải quyết", "quay lại", "theo đó",
    "trong khi", "kể từ", "cuối", "đầu", "tuần", "tháng", "năm", "hồi", "vào", "từ", "sáng", "chiều", "tối",
    "đêm", "tuy nhiên", "tuy vậy", "dù vậy", "nhưng", "song", "ngoài ra", "đồng thời", "mới đây", "gần đây",
    "cùng ngày", "trước đó", "sau đó", "khi được hỏi", "bình luận", "đưa ra", "nhấn mạnh", "thay vào đó",
    "trừ khi", "nếu", "vì", "bởi vì", "do", "để", "một khi", "trong trường hợp",
)

# Words that can follow a subject before its verb without being part of it ("Nga hôm nay cho biết").
SUBJECT_FILLERS = ("hôm nay", "hôm qua", "hôm", "ngày", "mới đây", "gần đây", "đã", "đang", "sẽ", "vừa", "cũng",
                   "đều", "vẫn", "tiếp tục", "liên tục", "nhiều lần", "từng", "thì", "lại", "còn", "sau đó",
                   "trước đó", "trong", "tuần trước", "tuần này", "chiều", "sáng", "tối", "đêm", "mới", "hiện",
                   "luôn", "dường như", "được cho là", "chính thức", "thêm")


# Tokens that may stand between a subject and its verb, read backwards from the verb ("Nga hôm 24/5 đã cho
# biết"); any token with a digit (a date) also may.
BETWEEN_SUBJECT_AND_VERB = frozenset((
    "hôm", "nay", "qua", "ngày", "tuần", "tháng", "năm", "sáng", "trưa", "chiều", "tối", "đêm", "khuya", "rạng",
    "trước", "sau", "đó", "này", "cùng", "mới", "đây", "gần", "hiện", "vừa", "đã", "đang", "sẽ", "cũng", "đều",
    "vẫn", "tiếp", "tục", "liên", "nhiều", "lần", "từng", "thì", "lại", "còn", "luôn", "dường", "như", "chính",
    "thức", "thêm", "một", "nữa", "công", "khai", "thẳng", "thừng", "lập", "tức", "nhanh", "chóng", "sớm", "cuối",
    "đầu", "thứ", "hai", "ba", "tư", "sáu", "bảy", "chủ", "nhật", "lên", "tiếng", "đột", "ngột", "bất", "ngờ",
    "cho", "là", "được", "hôm", "ấy", "kia",
))
# Words naming the kind of outlet between "theo" and its name ("theo trang tin The Kyiv Independent").
OUTLET_WORDS = frozenset(("trang", "tin", "tờ", "báo", "hãng", "thông", "tấn", "xã", "kênh", "đài", "tạp", "chí",
                          "nhật", "truyền", "hình", "mạng", "web", "chuyên"))
# Nouns of a report whose author is its source ("theo phân tích của AFP", "Báo cáo sơ bộ của Ukraine cho biết").
REPORT_NOUNS = ("tuyên bố", "thông báo", "thông cáo", "báo cáo", "phát biểu", "dữ liệu", "số liệu", "phân tích",
                "đánh giá", "ước tính", "khảo sát", "thăm dò", "trang web", "bài đăng", "bài viết", "thông tin",
                "nguồn tin", "kết quả", "ý kiến", "quan điểm", "nhận định", "tính toán", "thống kê", "văn bản",
                "tài liệu", "thông điệp", "tiết lộ", "cảnh báo", "lời", "kênh", "tài khoản", "trang mạng")
# Plans: "..., theo kế hoạch của Mỹ." names its author only where the author ends the sentence.
PLAN_NOUNS = ("kế hoạch", "đề xuất", "dự thảo", "sáng kiến")
# Words that may open a clause before a report frame ("Trong tuyên bố của X, ...").
FRAME_OPENERS = frozenset(("trong", "qua", "tại", "theo", "dẫn", "trích"))
# First-person subjects: a cue after one of these is the interviewee's or the quote's speaker's.
FIRST_PERSON = frozenset(("tôi", "ta", "mình", "tớ"))
# Heads of descriptions that fit many people: never resolved to one person across articles (no alias).
ROLE_HEADS = ("quan chức", "nhà ngoại giao", "chuyên gia", "nhà phân tích", "đặc phái viên", "đặc sứ", "nguồn tin",
              "nghị sĩ", "nhà lập pháp", "nhà báo", "phóng viên", "binh sĩ", "sĩ quan", "giới chức",
              "nhà quan sát", "nhà nghiên cứu", "học giả")
