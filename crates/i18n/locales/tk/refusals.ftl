# Ylalaşyk boýunça ret etmeler — türkmen dili.
refusal-malformed = Görnüş: wakanyň mazmuny Ylalaşygyň hakyky wakasy däl ({ $detail })
refusal-hidden-text = Görnüş: { $field } meýdançasynda { $code } belgisi bar, ony okyjy görmeýär ýa-da ol töweregindäki tekstiň tertibini üýtgedýär (dolandyryjy ýa-da iki ugurly belgi); teksti onsuz täzeden giriziň
refusal-art10-genesis = 10-njy madda: { $detail }
refusal-governance-head = Ýazgy: ýazgy dolandyryş zynjyrynyň başyny { $stated } diýip görkezýär, emma ondan öňki dolandyryş ýazgylary { $expected } berýär: bu nusgada dolandyryş ýazgysy ýetmeýär ýa-da ýazgy başga taryha degişli
refusal-time-backwards = Wagt: ýazgy { $received } alyndy, öňki ýazgydan ({ $previous }) öň; ýazgylaryň wagty kemelmeýär
refusal-authored-window = Wagt: waka öz aýdyşyna görä { $authored } düzülen, emma düwüne { $received } geldi — Taraplaryň rugsat berýän { $window } ms-dan köp (authored_window_ms); dogry wagt bilen täzeden gol çekiň
refusal-authored-ahead = Wagt: waka { $authored } düzülendigini görkezýär, bu düwüniň sagadyndan ({ $received }) rugsat berlen { $ahead } ms sagat tapawudyndan köp öňde; kompýuteriňiziň sagadyny barlaň we täzeden gol çekiň
refusal-not-case-event = Iş: «{ $kind }» wakasy hiç bir işe degişli däl we işi görkezmeli däl
refusal-answers-outside-case = Iş: «{ $kind }» wakasy öňki wakalara jogap berip bilmeýär; diňe işiň içindäki wakalar we diňe şol işiň öňki wakalaryna jogap berýär
refusal-reserved-case-id = Iş: 00000000000000000000000000000000 iş kody ätiýaçda saklanýar; tötänleýin 128 bitlik kod saýlaň
refusal-art10-not-constituted = 10-njy madda: Ylalaşygyň reýestri entek döredilmedi: ilki beýleki Taraplaryň kök açary döredilmegi kabul etmeli
refusal-art3-unknown = 3-nji madda: { $who } Taraplaryň hiç biriniň hasaba alnan edarasy däl
refusal-art3-key-not-active = 3-nji madda: gol çeken açar reýestriň bu ýerinde { $who } edarasynyň hereket edýän açary däl (hasaba alynmadyk, çalşylan, yzyna alnan ýa-da çykan)
refusal-art3-key-of-another = 3 madda: gol çeken açar { $author } däl-de, { $owner } adyna hasaba alnan: { $author } öz açary bilen gol çekiň
refusal-art3-not-root = 3-nji madda: «{ $kind }» wakasyna Taraplaryň kök açary (diplomatik kanal) gol çekmeli; { $who } kök açary däl
refusal-art3-not-competent = 3-nji madda: «{ $kind }» wakasyna ygtyýarly edara gol çekmeli; { $who } ygtyýarly edara däl
refusal-art3 = 3-nji madda: { $detail }
refusal-art10-not-in-force = 10-njy madda: Ylalaşyk entek güýje girmedi: ol döwletiçi amallaryň ýerine ýetirilendigi barada soňky habarnama alnan senesinden güýje girýär
refusal-art10-terminated = 10-njy madda: Ylalaşygyň hereketi { $at } bäri bes edildi; täze haýyş mümkin däl
refusal-art10 = 10-njy madda: { $detail }
refusal-art9 = 9-njy madda: { $detail }
refusal-art1-2 = 1.2 madda: başga jenaýat boýunça haýyş üçin beýleki Taraplaryň hasaba alnan ylalaşygy gerek ({ $detail })
refusal-art1-3 = 1.3 madda: { $detail }
refusal-art2 = 2-nji madda: { $detail }
refusal-art4-1-1 = 4.1(1) madda: haýyşda haýyş edilýän edaranyň ady görkezilmedik
refusal-art4-1-2 = 4.1(2) madda: haýyşda şu ýok: { $what }
refusal-art4-1-3 = 4.1(3) madda: haýyşda kömek soramaga sebäp bolan işiň beýany ýok
refusal-art4-1-4 = 4.1(4) madda: haýyşda onuň mazmuny we ony ýerine ýetirmek üçin zerur maglumatlar ýok
refusal-art4-1-5-missing-copy = 4.1(5) madda: haýyşda kararyň ýa-da başga namanyň tassyklanan göçürmesi ýok
refusal-art4-1-5-not-certified = 4.1(5) madda: kararyň göçürmesi ({ $document }) tassyklanan göçürme hökmünde bellenmedik; Ylalaşyk tassyklanan göçürmäni talap edýär
refusal-art4-1-5-not-provision = 4.1(5) madda: kanun düzgüni hökmünde berlen resminama ({ $document }) kanun düzgüniniň teksti däl
refusal-art4-1-5-missing-provision = 4.1(5) madda: haýyşda kararyň esaslanýan kanun düzgüniniň teksti ýok
refusal-art4-1-recipient = 4.1 madda: haýyş beýleki Taraplaryň ygtyýarly edarasyna iberilýär; { $detail }
refusal-art4-1 = 4.1 madda: { $detail }
refusal-art4-2-not-state-language = 4.2 madda: { $document } resminamasy { $language-code ->
        [Kk] gazak dilinde
        [Tk] türkmen dilinde
       *[Ru] rus dilinde
    } düzülen; habarlar awtoryň döwlet dilinde — { $own-code ->
        [Kk] gazak dilinde
        [Tk] türkmen dilinde
       *[Ru] rus dilinde
    } düzülýär (eger edaralar başgaça ylalaşmasalar)
refusal-art4-2-no-translation = 4.2 madda: { $document } resminamasyna beýleki Tarapyň diline ({ $target-code ->
        [Kk] gazak diline
        [Tk] türkmen diline
       *[Ru] rus diline
    }) ýa-da rus diline terjimesi goşulmadyk
refusal-art4-2 = 4.2 madda: { $detail }
refusal-art4-3 = 4.3 madda: { $detail }
refusal-art4-4 = 4.4 madda: berilýän maglumatda döwlet syryny saklamaýandygy aýdylmadyk; Ylalaşygyň çäklerinde döwlet syry alyşylmaýar
refusal-art4-5 = 4.5 madda: ret etmekde 4.5 maddanyň sanawyndan azyndan bir esas görkezilmeli
refusal-art4-6 = 4.6 madda: { $detail } sebäpler görkezilmeli
refusal-no-such-case = Iş: bu iş boýunça haýyş ýok
refusal-case-exists = Iş: bu iş boýunça haýyş eýýäm bar
refusal-case-required = Iş: «{ $kind }» wakasy öz işini görkezmeli
refusal-case-closed = Iş: iş ýapyk
refusal-already-answered = Iş: haýyşa eýýäm jogap berildi ({ $detail })
refusal-case = Iş: { $detail }
refusal-version-conflict = Iş: waka işiň { $expected } wersiýasyna garaşýar, emma iş { $actual } wersiýada; işi täzeläp, gaýtadan synanyşyň
refusal-unknown-answer = Iş: waka { $what } jogap berýär, emma ol bu işiň öňki wakasy däl
refusal-art5 = 5-nji madda: { $detail }
refusal-art7-unknown-item = 7-nji madda: bu iş boýunça { $item } maglumaty berilmedi
refusal-art7-2-purpose = 7.2 madda: maglumaty «{ $purpose }» maksady bilen peýdalanmak bolmaýar: bu maksat haýyşda görkezilmedik we maglumaty beren Taraplaryň ({ $provider }) razylygy ony öz içine almaýar
refusal-art7-2-no-consent = 7.2 madda: maglumaty beren Taraplaryň ({ $provider }) öňünden ýazmaça razylygy bolmazdan maglumaty üçünji tarapa ({ $third }) bermek bolmaýar; { $detail }
refusal-art7-2-consent-not-prior = 7.2 madda: maglumaty beren Tarapyň ({ $provider }) razylygy «{ $purpose }» maksadyny öz içine alýar, emma ol şu ulanyş düzülenden soň berildi: razylyk öňünden bolmaly (ulanyşy häzir täzeden düzüň)
refusal-art7-2-consent-party = 7.2 madda: razylyk maglumaty beren Tarapdan ({ $provider }) bolmaly; «{ $signer }» Tarapynyň edarasynyň gol çeken razylygy razylyk däldir
refusal-art7-2-not-recipient = 7.2 madda: maglumaty diňe ol berlen { $recipient } ulanýar, oňa razylyk soraýar ýa-da ony berýär; { $signer } ony almady
refusal-art7 = 7-nji madda: { $detail }
refusal-art8 = 8-nji madda: { $detail }
nothing-written = hiç zat ýazylmady
refused-label = ret etmek
nothing-written-size = hiç zat ýazylmady (reýestrde öňküsi ýaly ýazgylaryň sany: { $size })
nothing-written-size-changed = hiç zat ýazylmady (reýestrdäki ýazgylaryň sany: { $size }; ol şu wagtyň içinde üýtgedi)
submitting-event = { $id } wakasy iberilýär (gol çekilen nusgasy: { $copy }; şol buýrugy täzeden işletmek edil şu wakany iberer, we reýestr, eger waka onda bar bolsa, onuň ilkinji kwitansiýasy bilen jogap berer)
resending-event = { $id } wakasy täzeden iberilýär (gol çekilen nusgasy: { $copy }; şol buýrugy täzeden işletmek edil şu wakany iberer, we reýestr, eger waka onda bar bolsa, onuň ilkinji kwitansiýasy bilen jogap berer)
