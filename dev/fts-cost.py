#!/usr/bin/env python3
"""What the two FTS5 search tables cost to fill, apart from the store (BENCHMARKS.md, "The search
index's share"): 5,000 generated rows shaped like the index's search rows (number, names,
village, a 60-character request; its two-character pairs), written into a trigram `search` and a
`search_pairs` table in WAL mode, in a page at a time or in one statement, with FTS5 settings
varied. Run: python3 dev/fts-cost.py (Python's own SQLite; the figures compare, they are not
the store's)."""
import json, os, random, sqlite3, tempfile, time

DB = os.path.join(tempfile.mkdtemp(), 'fts-cost.db')
random.seed(1)
chars = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严龙飞"
def text(n): return "".join(random.choice(chars) for _ in range(n))
rows=[(i+1, "GT-%05d"%i, text(3)+" "+text(3), text(4)+"村", "反映"+text(60)) for i in range(5000)]
def pairs(t):
    s=set()
    for w in t.split():
        for a,b in zip(w,w[1:]): s.add(a+b)
    return " ".join(sorted(s))
prow=[(r[0], pairs(" ".join(r[1:]))) for r in rows]
def setup(path):
    if os.path.exists(path): os.remove(path)
    c=sqlite3.connect(path, isolation_level=None)
    c.execute("pragma journal_mode=wal"); c.execute("pragma synchronous=normal")
    c.execute("create virtual table search using fts5(number, names, village, request, tokenize='trigram')")
    c.execute("create virtual table search_pairs using fts5(pairs)")
    return c
def run(name, pages, pre=None, post=None):
    c=setup(DB)
    t=time.time()
    n=len(rows)//pages+1
    for p in range(pages):
        c.execute("begin")
        if pre and p==0: 
            for s in pre: c.execute(s)
        # One statement per page per table, as the store writes them (json_each).
        c.execute("insert into search(rowid,number,names,village,request) select value->>0,value->>1,value->>2,value->>3,value->>4 from json_each(?)", (json.dumps(rows[p*n:(p+1)*n]),))
        c.execute("insert into search_pairs(rowid,pairs) select value->>0,value->>1 from json_each(?)", (json.dumps(prow[p*n:(p+1)*n]),))
        if post and p==pages-1:
            for s in post: c.execute(s)
        c.execute("commit")
    print(name, round(time.time()-t,3), sqlite3.sqlite_version)
run("57 pages", 57)
run("1 stmt", 1)
run("1 stmt automerge0+optimize", 1, pre=["insert into search(search,rank) values('automerge',0)","insert into search_pairs(search_pairs,rank) values('automerge',0)"], post=["insert into search(search) values('optimize')","insert into search_pairs(search_pairs) values('optimize')","insert into search(search,rank) values('automerge',4)","insert into search_pairs(search_pairs,rank) values('automerge',4)"])
run("1 stmt hashsize 64M", 1, pre=["insert into search(search,rank) values('hashsize',67108864)","insert into search_pairs(search_pairs,rank) values('hashsize',67108864)"])
run("57 pages automerge0+optimize", 57, pre=["insert into search(search,rank) values('automerge',0)","insert into search_pairs(search_pairs,rank) values('automerge',0)","insert into search(search,rank) values('crisismerge',200)","insert into search_pairs(search_pairs,rank) values('crisismerge',200)"], post=["insert into search(search) values('optimize')","insert into search_pairs(search_pairs) values('optimize')"])
for tbl in ["search","search_pairs"]:
    c=setup(DB); t=time.time(); c.execute("begin")
    if tbl=="search": c.execute("insert into search(rowid,number,names,village,request) select value->>0,value->>1,value->>2,value->>3,value->>4 from json_each(?)", (json.dumps(rows),))
    else: c.execute("insert into search_pairs(rowid,pairs) select value->>0,value->>1 from json_each(?)", (json.dumps(prow),))
    c.execute("commit"); print(tbl, round(time.time()-t,3))
c=setup(DB)
c.execute("drop table search"); c.execute("create virtual table search using fts5(number, names, village, request, tokenize='trigram', detail='column')")
t=time.time(); c.execute("begin"); c.execute("insert into search(rowid,number,names,village,request) select value->>0,value->>1,value->>2,value->>3,value->>4 from json_each(?)", (json.dumps(rows),)); c.execute("commit"); print("search detail=column", round(time.time()-t,3))
c.execute("drop table search_pairs"); c.execute("create virtual table search_pairs using fts5(pairs, detail='none')")
t=time.time(); c.execute("begin"); c.execute("insert into search_pairs(rowid,pairs) select value->>0,value->>1 from json_each(?)", (json.dumps(prow),)); c.execute("commit"); print("pairs detail=none", round(time.time()-t,3))
